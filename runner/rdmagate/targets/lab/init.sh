#!/bin/busybox sh
# shellcheck shell=dash
# rdmagate lab: the initramfs's /init. Static text: everything variable comes
# from files in the control share (/lab), read with `read -r`, never evaluated.
/bin/busybox --install -s /bin
export PATH=/bin
mkdir -p /proc /sys /dev /lab /lower /upper /newroot /lib/modules
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
# shellcheck disable=SC2013 # one module name a line, no spaces
for m in $(cat /boot-modules); do insmod "/mods/$m" 2>/dev/null; done

say() { echo "rdmagate-lab: $*"; }
fail() { say "guest error: $*"; poweroff -f; }
p9() { mount -t 9p -o "trans=virtio,version=9p2000.L,msize=262144,$3" "$1" "$2"; }

case " $(cat /proc/cmdline) " in
*" rdmagate.probe=1 "*) say "probe ok"; poweroff -f ;;
esac

node=1
# shellcheck disable=SC2013 # the command line is one line of words
for word in $(cat /proc/cmdline); do
	case "$word" in rdmagate.node=*) node="${word#*=}" ;; esac
done
p9 lab /lab rw || fail "cannot mount the control share"
me="/lab/node$node"
fail() { say "guest error: $*"; echo 125 > "$me/exit_status"; poweroff -f; }
p9 modules /lib/modules ro || fail "cannot mount the kernel modules"
p9 root /lower ro || fail "cannot mount the root file system"
mount -t tmpfs tmpfs /upper
mkdir -p /upper/u /upper/w
mount -t overlay overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w /newroot \
	|| fail "cannot mount the overlay root"
# A stack's userspace over the root's /usr and /etc/libibverbs.d, when the
# stack runs on the root's C library (lab/README in the docstring of run.py).
if [ -f "$me/stack_usr" ]; then
	mkdir -p /stack
	p9 stack /stack ro || fail "cannot mount the stack"
	mkdir -p /upper/usr-u /upper/usr-w
	mount -t overlay overlay \
		-o lowerdir=/stack/usr:/lower/usr,upperdir=/upper/usr-u,workdir=/upper/usr-w /newroot/usr \
		|| fail "cannot overlay the stack's /usr"
	if [ -d /stack/etc/libibverbs.d ]; then
		mkdir -p /newroot/etc/libibverbs.d
		mount --bind /stack/etc/libibverbs.d /newroot/etc/libibverbs.d
	fi
fi
# The kernel's modules where the chroot's modprobe looks for them (after
# the /usr overlay: /lib is usr/lib in a merged-/usr root).
mkdir -p /newroot/lib/modules
mount --bind /lib/modules /newroot/lib/modules
# Host directories shared at their own paths (the run directory, a build).
for bind in "$me"/binds/*; do
	[ -f "$bind/target" ] || continue
	read -r target < "$bind/target"
	read -r mode < "$bind/mode"
	read -r tag < "$bind/tag"
	mkdir -p "/newroot$target"
	p9 "$tag" "/newroot$target" "$mode" || fail "cannot mount $target"
done
mkdir -p /newroot/proc /newroot/sys /newroot/dev /newroot/tmp /newroot/run/rdmagate-lab
mount -t proc proc /newroot/proc
mount -t sysfs sys /newroot/sys
mount --bind /dev /newroot/dev
mount --bind /lab /newroot/run/rdmagate-lab
[ -e /newroot/dev/pts ] || mkdir -p /newroot/dev/pts
mount -t devpts devpts /newroot/dev/pts 2>/dev/null
chroot /newroot /bin/sh /run/rdmagate-lab/guest.sh
status=$?
echo "$status" > "$me/exit_status"
sync
say "exit $status"
poweroff -f
