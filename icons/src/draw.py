"""Draws Tandem's source icons as PNG with nothing but the standard library.

The app icon: two overlapping rings (two apps sharing one context) on a rounded square.
Tray icons: the same rings on a transparent background in a state colour (ok green, degraded
amber, down red) with a dark outline and a light halo, so they read on light and dark panels.
Run: python3 icons/src/draw.py  (then `tauri icon icons/src/app.png -o icons`).
"""
import math, struct, sys, zlib, os

def png(path, w, h, px):
    raw = b"".join(b"\x00" + bytes(px[y*w*4:(y+1)*w*4]) for y in range(h))
    def chunk(t, d):
        c = struct.pack(">I", len(d)) + t + d
        return c + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
    data += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
    open(path, "wb").write(data)

def render(size, shade, ss=4):
    """shade(x, y) -> (r, g, b, a) in unit coordinates; supersampled."""
    px = bytearray(size*size*4)
    for y in range(size):
        for x in range(size):
            acc = [0.0]*4
            for sy in range(ss):
                for sx in range(ss):
                    u = (x + (sx+0.5)/ss)/size
                    v = (y + (sy+0.5)/ss)/size
                    r, g, b, a = shade(u, v)
                    acc[0] += r*a; acc[1] += g*a; acc[2] += b*a; acc[3] += a
            n = ss*ss
            a = acc[3]/n
            i = (y*size + x)*4
            if a > 0:
                px[i:i+4] = bytes([round(acc[0]/acc[3]), round(acc[1]/acc[3]), round(acc[2]/acc[3]), round(a*255)])
    return px

def over(top, bottom):
    ta = top[3]; ba = bottom[3]
    a = ta + ba*(1-ta)
    if a == 0: return (0,0,0,0)
    return tuple((top[i]*ta + bottom[i]*ba*(1-ta))/a for i in range(3)) + (a,)

def ring(u, v, cx, cy, r, w):
    d = math.hypot(u-cx, v-cy)
    return abs(d - r) <= w/2

def rounded_square(u, v, m, rad):
    x = min(max(u, m+rad), 1-m-rad); y = min(max(v, m+rad), 1-m-rad)
    return math.hypot(u-x, v-y) <= rad

def app_shade(u, v):
    out = (0,0,0,0)
    if rounded_square(u, v, 0.06, 0.2):
        t = v
        out = (40 + 20*t, 62 + 30*t, 140 + 40*t, 1.0)   # deep blue gradient
        if ring(u, v, 0.39, 0.5, 0.2, 0.075): out = over((255,255,255,1.0), out)
        if ring(u, v, 0.61, 0.5, 0.2, 0.075): out = over((126,214,255,0.95), out)
    return out

STATES = {"ok": (46,160,67), "degraded": (219,150,0), "down": (215,58,73)}

def tray_shade(color):
    def shade(u, v):
        out = (0,0,0,0)
        for cx in (0.36, 0.64):
            d = math.hypot(u-cx, v-0.5)
            if abs(d-0.26) <= 0.11: out = over((30,30,30,1.0), out)    # dark outline
        for cx in (0.36, 0.64):
            d = math.hypot(u-cx, v-0.5)
            if abs(d-0.26) <= 0.085: out = over((255,255,255,1.0), out)  # light halo
        for cx in (0.36, 0.64):
            d = math.hypot(u-cx, v-0.5)
            if abs(d-0.26) <= 0.055: out = over(color + (1.0,), out)
        return out
    return shade

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
if "--app" in sys.argv or len(sys.argv) == 1:
    png(os.path.join(here, "app.png"), 512, 512, render(512, app_shade, ss=2))
for name, color in STATES.items():
    png(os.path.join(root, "tray", f"{name}.png"), 64, 64, render(64, tray_shade(color), ss=4))
