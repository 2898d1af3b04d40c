#!/usr/bin/env python3
"""Draws assets/refboard.png (256x256): a Messenger-blue rounded square with
a white chat bubble holding a small QR-like mark. Pure Python (zlib only), so
it runs anywhere: python3 scripts/make-icon.py"""
import struct, zlib, math

N = 256
BLUE = (0, 132, 255, 255)
WHITE = (255, 255, 255, 255)
DARK = (10, 40, 90, 255)
CLEAR = (0, 0, 0, 0)

def inside_rounded(x, y, x0, y0, x1, y1, r):
    cx = min(max(x, x0 + r), x1 - r)
    cy = min(max(y, y0 + r), y1 - r)
    return (x - cx) ** 2 + (y - cy) ** 2 <= r * r

# A 7x7 finder-like mark plus a few modules, drawn inside the bubble.
QR = [
    "1111111.1.1",
    "1.....1..1.",
    "1.111.1.11.",
    "1.111.1..11",
    "1.111.1.1..",
    "1.....1.11.",
    "1111111.1.1",
    "........11.",
    "11.1.11.1.1",
    ".1.11..11..",
    "1.1.1.11.11",
]

def pixel(x, y):
    if not inside_rounded(x + .5, y + .5, 8, 8, 248, 248, 48):
        return CLEAR
    # bubble: rounded rect plus a tail at the bottom left
    in_bubble = inside_rounded(x + .5, y + .5, 44, 40, 212, 190, 36)
    tail = (60 <= x <= 110) and (180 <= y <= 222) and (x - 60) >= (y - 180) * 0.2 and (x - 60) <= (222 - y) * 1.2
    if not (in_bubble or tail):
        return BLUE
    m = 11
    cell = 10
    ox, oy = 128 - m * cell // 2, 115 - m * cell // 2
    qx, qy = (x - ox) // cell, (y - oy) // cell
    if 0 <= qx < m and 0 <= qy < m and QR[qy][qx] == "1":
        return DARK
    return WHITE

raw = bytearray()
for y in range(N):
    raw.append(0)
    for x in range(N):
        raw.extend(pixel(x, y))

def chunk(tag, data):
    c = struct.pack(">I", len(data)) + tag + data
    return c + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", N, N, 8, 6, 0, 0, 0))
png += chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b"")
open("assets/refboard.png", "wb").write(png)
print("wrote assets/refboard.png", len(png), "bytes")
