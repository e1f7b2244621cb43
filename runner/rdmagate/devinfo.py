"""`ibv_devinfo -v` read into capabilities: the device's fields, then each
port's. GID lines are left out; every value stays the text ibv_devinfo
printed ("PORT_ACTIVE (4)"), and a heading with no value followed by
capability names (the ODP lists: "rc_odp_caps:" then SUPPORT_SEND, ...) is
a list of those names. ibv_devinfo -v prints what ibv_query_device_ex
returns (device_cap_flags_ex, the ODP, TSO, RSS and packet pacing caps), so
this is both queries' view of the device.

shrunk() compares what a profile recorded with what the device says now."""
import re

_FIELD = re.compile(r"^\s*(?P<key>[A-Za-z][\w .()/-]*?):\s*(?P<value>\S.*)$")
_HEADING = re.compile(r"^\s*(?P<key>[a-z][\w]*):\s*$")
_ITEM = re.compile(r"^\s+(?P<item>[A-Z][A-Z0-9_ ]*?)\s*$")


def parse(text: str) -> dict:
    device: dict = {}
    ports: dict = {}
    current = device
    listing = None   # the list a heading opened, while its names follow
    for line in text.splitlines():
        item = _ITEM.match(line)
        if listing is not None and item:
            if item.group("item") != "NO SUPPORT":
                listing.append(item.group("item"))
            continue
        listing = None
        heading = _HEADING.match(line)
        if heading and heading.group("key") not in current:
            listing = current[heading.group("key")] = []
            continue
        match = _FIELD.match(line)
        if not match:
            continue
        key, value = match.group("key").strip(), match.group("value").strip()
        if key == "port":
            current = ports.setdefault(value, {})
            continue
        if key.startswith("GID[") or key in current:
            continue
        current[key] = value
    if not device.get("hca_id"):
        raise ValueError("no hca_id: not ibv_devinfo -v output")
    return {"device": device, "ports": ports}


# What names a device or says how it is now, not what it can do: never a
# capability that can shrink.
NOT_CAPABILITIES = frozenset({
    "hca_id", "transport", "fw_ver", "node_guid", "sys_image_guid", "vendor_id",
    "vendor_part_id", "hw_ver", "Unknown flags", "local_ca_ack_delay", "qp_rate_limit_min",
    "state", "active_mtu", "sm_lid", "port_lid", "port_lmc", "link_layer", "bad_pkey_cntr",
    "qkey_viol_cntr", "sm_sl", "subnet_timeout", "init_type_reply", "active_width",
    "active_speed", "phys_state"})
_NUMBER = re.compile(r"^(0x[0-9a-fA-F]+|\d+)")
_CODE = re.compile(r"\((\d+)\)\s*$")


def _is_mask(key: str, value: str) -> bool:
    """Flags and masks (device_cap_flags, page_size_cap, rx_hash_fields_mask):
    a capability per bit."""
    return value.lower().startswith("0x") and any(w in key for w in ("flags", "cap", "mask"))


def number(value: str) -> int | None:
    """4096 of "4096 (5)", 1 of "ATOMIC_HCA (1)", 0 of "0kbps"; None: not a number."""
    match = _NUMBER.match(value)
    if match:
        return int(match.group(1), 0)
    code = _CODE.search(value)
    return int(code.group(1)) if code else None


def _less(key: str, was, now) -> bool:
    if isinstance(was, list):
        return bool(set(was) - set(now if isinstance(now, list) else []))
    if now is None:
        return True   # the device no longer reports it
    if not isinstance(was, str) or not isinstance(now, str):
        return False
    if _is_mask(key, was) and _is_mask(key, now):
        return bool(int(was, 16) & ~int(now, 16))
    before, after = number(was), number(now)
    return before is not None and after is not None and after < before


def shrunk(recorded: dict, now: dict) -> list[tuple[str, object, object]]:
    """Each capability of recorded that the device now has less of (a lower
    limit, a flag bit gone, a name gone from a list, a field gone), as
    (name, recorded, now); ports are named port<N>.<field>."""
    found = []
    sections = [("", recorded.get("device") or {}, now.get("device") or {})]
    sections += [(f"port{port}.", fields, (now.get("ports") or {}).get(port) or {})
                 for port, fields in (recorded.get("ports") or {}).items()]
    for prefix, was_fields, now_fields in sections:
        for key, was in was_fields.items():
            if key in NOT_CAPABILITIES:
                continue
            if _less(key, was, now_fields.get(key)):
                found.append((prefix + key, was, now_fields.get(key)))
    return found
