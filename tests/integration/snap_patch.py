#!/usr/bin/env python3
"""snap_patch.py IN OUT FIELD VALUE: a copy of a kite snapshot file with one
header field changed and the header's CRC32C recomputed, so that the file
is sound and only the field's meaning is wrong (tests/integration/snapshot.sh:
another host's signature, another format version). FIELD: version, arch,
cpuid_crc, msr_crc, xsave_size (offsets in docs/SNAPSHOT-FORMAT.md)."""
import struct
import sys

OFFSETS = {"version": 8, "arch": 12, "cpuid_crc": 36, "msr_crc": 44, "xsave_size": 60}


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def main():
    src, dst, field, value = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4], 0)
    assert crc32c(b"123456789") == 0xE3069283
    data = bytearray(open(src, "rb").read())
    struct.pack_into("<I", data, OFFSETS[field], value)
    struct.pack_into("<I", data, 92, crc32c(bytes(data[:92])))
    open(dst, "wb").write(data)


main()
