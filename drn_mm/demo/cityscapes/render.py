"""Rendering a scene's polygons into an RGB image: a texture per class, lighting, noise."""

import numpy as np
from PIL import Image, ImageDraw

from .geometry import _Scene
from .labels import _LABEL_INDEX, _LABEL_NAMES


def _smooth_noise(rng: np.random.Generator, h: int, w: int, cell: int) -> np.ndarray:
    """(h, w) float32 noise, roughly unit variance, bilinearly interpolated from a coarse grid."""
    gh, gw = h // cell + 2, w // cell + 2
    grid = rng.standard_normal((gh, gw)).astype(np.float32)
    ys, xs = np.arange(h, dtype=np.float32) / cell, np.arange(w, dtype=np.float32) / cell
    y0, x0 = ys.astype(np.int64), xs.astype(np.int64)
    ty, tx = (ys - y0)[:, None], (xs - x0)[None, :]
    top = grid[y0][:, x0] * (1 - tx) + grid[y0][:, x0 + 1] * tx
    bottom = grid[y0 + 1][:, x0] * (1 - tx) + grid[y0 + 1][:, x0 + 1] * tx
    return top * (1 - ty) + bottom * ty


class _Pixels:
    """The pixels of one class: coordinates, instance ids and per-instance lookups."""

    def __init__(self, ctx, ys, xs, ids):
        self.ctx, self.ys, self.xs, self.ids = ctx, ys, xs, ids
        box = ctx['bbox'][ids]
        self.rx = (xs - box[:, 0]) / np.maximum(box[:, 2] - box[:, 0], 1)
        self.ry = (ys - box[:, 1]) / np.maximum(box[:, 3] - box[:, 1], 1)
        self.color = ctx['color'][ids]
        self.fine = ctx['fine'][ys, xs]

    def field(self, name):
        return self.ctx[name][self.ys, self.xs]

    def ground(self):
        """World (X, Z) on the ground plane of each pixel (pixels below the horizon)."""
        cam = self.ctx['cam']
        d = np.maximum(self.ys - cam.yh, 0.5)
        return (self.xs - cam.xv) * cam.height / d, cam.f * cam.height / d, d


def _tex_sky(p):
    top, horizon = (np.asarray(c, np.float32) for c in p.ctx['scene'].attrs['sky'])
    t = np.clip(p.ys / max(p.ctx['cam'].yh, 1.0), 0, 1)[:, None]
    col = top * (1 - t) + horizon * t
    return col + 30 * np.clip(p.field('smooth16'), 0, None)[:, None] + 1.5 * p.fine[:, None]


def _tex_building(p):
    periods = p.ctx['period'][p.ids]
    box = p.ctx['bbox'][p.ids]
    wy = (p.ys - box[:, 1].astype(np.int64)) % periods[:, 0]
    wx = (p.xs - box[:, 0].astype(np.int64)) % periods[:, 1]
    k = p.ctx['scale']  # frame width
    window = (wy >= k) & (wy <= periods[:, 0] - 2 * k) & (wx >= k) & (wx <= periods[:, 1] - 2 * k)
    col = p.color + 8 * p.fine[:, None] + 6 * p.field('smooth4')[:, None]
    glass = np.array([55, 62, 75], np.float32) + 25 * p.field('smooth16')[:, None]
    return np.where(window[:, None], glass, col)


def _tex_wall(p):
    k = p.ctx['scale']  # brick: 3 x 6 px at 128 px image height
    row = p.ys // (3 * k)
    joint = (p.ys % (3 * k) == 0) | ((p.xs + 3 * k * (row % 2)) % (6 * k) == 0)
    return p.color + np.where(joint, 28.0, -6.0)[:, None] + 5 * p.fine[:, None]


def _tex_fence(p):
    slat = p.xs % (3 * p.ctx['scale']) == 0
    rail = (p.ry > 0.12) & (p.ry < 0.22)
    shade = np.where(slat & ~rail, -50.0, np.where(rail, 18.0, 4.0))
    return p.color + shade[:, None] + 4 * p.fine[:, None]


def _tex_pole(p):
    return np.array([86, 86, 90], np.float32) + (10 * (0.5 - p.rx) + 3 * p.fine)[:, None]


def _tex_traffic_light(p):
    col = np.tile(np.array([32, 34, 32], np.float32), (len(p.ys), 1))
    state = p.ctx['state'][p.ids]
    lamp_row = np.clip((p.ry * 3).astype(np.int64), 0, 2)
    lamps = np.array([[235, 40, 30], [240, 190, 30], [40, 220, 90]], np.float32)
    on = (lamp_row == state) & (np.abs(p.rx - 0.5) < 0.45)
    col[on] = lamps[state[on]]
    return col + 2 * p.fine[:, None]


def _tex_traffic_sign(p):
    kind = p.ctx['sign'][p.ids]
    faces = np.array([[30, 75, 175], [200, 30, 30], [225, 185, 35]], np.float32)
    col = faces[kind]
    inner = (np.abs(p.rx - 0.5) < np.where(kind == 1, 0.3, 0.18)) & (np.abs(p.ry - 0.5) < 0.2)
    col[inner] = (235, 235, 230)
    return col + 3 * p.fine[:, None]


def _tex_vegetation(p):
    speckle = p.fine[:, None] * np.array([26, 34, 16], np.float32)
    shade = 1.0 + 0.25 * p.field('smooth4')[:, None]
    return p.color * shade + speckle


def _tex_terrain(p):
    mottle = p.field('smooth8')[:, None] * np.array([14, 12, 8], np.float32)
    return p.color + mottle + 2 * p.fine[:, None]


def _tex_road(p):
    X, Z, d = p.ground()
    col = p.color + 5 * p.field('smooth16')[:, None] + 2.5 * p.fine[:, None]
    road = p.ctx['scene'].attrs['road']
    cover = np.clip(0.15 * d / p.ctx['cam'].height, 0.25, 1.0)  # a 15 cm line's share of a pixel
    px_per_m = d / p.ctx['cam'].height
    for x_line, dashed in road['lines']:
        on = np.abs(X - x_line) * px_per_m <= np.maximum(0.075 * px_per_m, 0.5)
        if dashed:
            on &= (Z % road['dash']) < road['dash'] * 0.4
        alpha = (on * cover)[:, None]
        col = col * (1 - alpha) + np.float32(215) * alpha
    return col


def _tex_sidewalk(p):
    X, Z, d = p.ground()
    cam = p.ctx['cam']
    tile = 0.5
    sx = tile * d / cam.height  # tile width, pixels
    sz = tile * d * d / (cam.f * cam.height)  # tile depth, pixels
    jx = ((X / tile) % 1.0) * sx < 1.0
    jz = ((Z / tile) % 1.0) * sz < 1.0
    joint = (jx & (sx >= 3)) | (jz & (sz >= 3))
    return p.color + np.where(joint, -28.0, 3.0)[:, None] + 4 * p.fine[:, None]


def _tex_person(p, head=(200, 160, 130)):
    col = p.color.copy()
    legs = p.ry > 0.55
    col[legs] = p.ctx['color2'][p.ids[legs]] * 0.7
    top = (p.ry < 0.17) & (np.abs(p.rx - 0.5) < 0.25)
    col[top] = head
    return col + 4 * p.fine[:, None]


def _tex_rider(p):
    col = p.color.copy()
    top = p.ry < 0.2
    col[top] = p.ctx['color2'][p.ids[top]]
    return col + 4 * p.fine[:, None]


def _tex_car(p):
    col = p.color * (1.0 + 0.18 * (0.5 - p.ry))[:, None]
    glass = (p.ry > 0.04) & (p.ry < 0.38) & (np.abs(p.rx - 0.5) < 0.36)
    col[glass] = np.array([42, 48, 58], np.float32)
    col[p.ry > 0.86] = (24, 24, 26)
    lamp = (p.ry > 0.5) & (p.ry < 0.62) & (np.abs(p.rx - 0.5) > 0.36)
    col[lamp] = (185, 25, 25)
    return col + 3 * p.fine[:, None]


def _tex_truck(p):
    groove = (p.xs - p.ctx['bbox'][p.ids, 0].astype(np.int64)) % (4 * p.ctx['scale']) == 0
    col = p.color + np.where(groove, -28.0, 0.0)[:, None]
    col[p.ry > 0.88] = (26, 26, 28)
    return col + 3 * p.fine[:, None]


def _tex_bus(p):
    col = p.color.copy()
    band = (p.ry > 0.12) & (p.ry < 0.45)
    divider = (p.xs - p.ctx['bbox'][p.ids, 0].astype(np.int64)) % (5 * p.ctx['scale']) == 0
    col[band] = np.array([45, 52, 62], np.float32)
    col[band & divider] = p.color[band & divider] * 0.8
    col[p.ry > 0.9] = (26, 26, 28)
    return col + 3 * p.fine[:, None]


def _tex_two_wheeler(p, base=(44, 44, 50)):
    col = np.tile(np.array(base, np.float32), (len(p.ys), 1))
    col[p.fine > 1.2] = (175, 175, 185)  # metal glints / spokes
    return col + 3 * p.fine[:, None]


def _tex_flat(rgb, noise):

    def tex(p):
        return np.array(rgb, np.float32) + noise * p.fine[:, None]

    return tex


def _tex_ego(p):
    return np.array([32, 36, 46], np.float32) + (40 * p.ry)[:, None] + 3 * p.fine[:, None]


def _tex_static(p):
    return p.color + 9 * p.fine[:, None]


_TEXTURES = {
    'unlabeled': _tex_flat((68, 68, 68), 10),
    'ego vehicle': _tex_ego,
    'out of roi': _tex_flat((6, 6, 6), 2),
    'static': _tex_static,
    'road': _tex_road,
    'sidewalk': _tex_sidewalk,
    'building': _tex_building,
    'wall': _tex_wall,
    'fence': _tex_fence,
    'pole': _tex_pole,
    'traffic light': _tex_traffic_light,
    'traffic sign': _tex_traffic_sign,
    'vegetation': _tex_vegetation,
    'terrain': _tex_terrain,
    'sky': _tex_sky,
    'person': _tex_person,
    'rider': _tex_rider,
    'car': _tex_car,
    'truck': _tex_truck,
    'bus': _tex_bus,
    'train': _tex_truck,
    'motorcycle': _tex_two_wheeler,
    'bicycle': lambda p: _tex_two_wheeler(p, (50, 50, 56)),
}


def _rasterize(scene: _Scene) -> np.ndarray:
    """(h, w) uint8 map of polygon index + 1 (0 = no polygon), drawn like cityscapesScripts'
    ``json2labelImg`` (PIL ``ImageDraw.polygon`` in order, later polygons on top)."""
    canvas = Image.new('L', (scene.w, scene.h), 0)
    draw = ImageDraw.Draw(canvas)
    for i, obj in enumerate(scene.objects, 1):
        draw.polygon([tuple(p) for p in obj.polygon], fill=i)
    return np.asarray(canvas)


def _render(scene: _Scene, inst: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Render the (h, w, 3) uint8 RGB image of ``scene`` from its instance raster ``inst``."""
    h, w = inst.shape
    n = len(scene.objects) + 1
    bbox = np.zeros((n, 4), np.float32)  # x0, y0, x1, y1 of each polygon
    color = np.zeros((n, 3), np.float32)
    color2 = np.zeros((n, 3), np.float32)
    period = np.full((n, 2), 6, np.int64)
    state = np.zeros(n, np.int64)
    sign = np.zeros(n, np.int64)
    label_index = np.zeros(n, np.int64)  # 0 = 'unlabeled'
    for i, obj in enumerate(scene.objects, 1):
        pts = np.asarray(obj.polygon)
        bbox[i] = (*pts.min(0), *pts.max(0))
        color[i] = obj.attrs.get('color', (0, 0, 0))
        color2[i] = obj.attrs.get('color2', (0, 0, 0))
        period[i] = obj.attrs.get('period', (6, 6))
        state[i] = obj.attrs.get('state', 0)
        sign[i] = obj.attrs.get('sign', 0)
        label_index[i] = _LABEL_INDEX[obj.label]
    k = max(1, int(round(h / 128)))  # texture periods are given for 128 px high images
    ctx = dict(scene=scene, cam=scene.cam, bbox=bbox, color=color, color2=color2, period=period * k,
               state=state, sign=sign, scale=k, fine=rng.standard_normal(
                   (h, w)).astype(np.float32), smooth4=_smooth_noise(rng, h, w, 4 * k),
               smooth8=_smooth_noise(rng, h, w, 8 * k), smooth16=_smooth_noise(rng, h, w, 16 * k))
    img = np.zeros((h, w, 3), np.float32)
    label_map = label_index[inst]
    for index in np.unique(label_map):
        ys, xs = np.nonzero(label_map == index)
        pixels = _Pixels(ctx, ys, xs, inst[ys, xs].astype(np.int64))
        img[ys, xs] = _TEXTURES[_LABEL_NAMES[index]](pixels)
    # Global lighting: exposure, colour cast, a smooth illumination field, sensor noise.
    gain = rng.uniform(0.8, 1.15) * rng.uniform(0.94, 1.06, 3).astype(np.float32)
    tilt = rng.uniform(-0.15, 0.15)
    light = 1.0 + 0.08 * _smooth_noise(rng, h, w, 48 * k) + tilt * (np.arange(w) / w - 0.5)[None]
    img = img * gain * light[..., None] + rng.uniform(-8, 8)
    img += rng.uniform(1.5, 3.5) * rng.standard_normal((h, w, 3)).astype(np.float32)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)
