"""`ibv_devinfo -v` read into capabilities: the device's fields, then each
port's. GID lines and flag-name continuation lines are left out; every
value stays the text ibv_devinfo printed ("PORT_ACTIVE (4)")."""
import re

_FIELD = re.compile(r"^\s*(?P<key>[A-Za-z][\w .()/-]*?):\s*(?P<value>\S.*)$")


def parse(text: str) -> dict:
    device: dict = {}
    ports: dict = {}
    current = device
    for line in text.splitlines():
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
