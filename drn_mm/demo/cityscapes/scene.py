"""Scene layout: street, sidewalks, buildings, trees, poles and signs, people and vehicles."""

import numpy as np

from .geometry import (_BICYCLE, _MOTORCYCLE, _PERSON, _RIDER, _box, _Camera, _color, _log_uniform,
                       _regular_polygon, _Scene, _template)
from .labels import _MAX_OBJECTS

_BUILDING_COLORS = ((150, 130, 112), (122, 117, 112), (168, 150, 122), (112, 102, 96),
                    (138, 138, 146), (160, 120, 100))
_CAR_COLORS = ((90, 90, 95), (150, 20, 25), (20, 40, 110), (200, 200, 205), (30, 30, 32),
               (120, 125, 130), (40, 90, 60), (170, 150, 40))
_CLOTHES = ((40, 40, 60), (120, 30, 30), (30, 70, 120), (60, 60, 60), (150, 140, 110), (20, 20, 20),
            (90, 110, 60))
_JACKETS = ((220, 90, 20), (230, 210, 30), (30, 150, 200), (200, 30, 120))


def _build_scene(rng: np.random.Generator, h: int, w: int) -> _Scene:
    """Draw the polygons of one street scene (all randomness from ``rng``, in a fixed order)."""
    cam = _Camera(f=w * rng.uniform(0.62, 0.8), xv=w * rng.uniform(0.42, 0.58),
                  yh=h * rng.uniform(0.36, 0.47))
    scene = _Scene(h, w, cam)
    z_near = 0.25  # far enough behind the image border for every ground polygon
    z_end = rng.uniform(70.0, 180.0)
    road_l, road_r = rng.uniform(3.5, 7.0), rng.uniform(3.5, 7.0)  # road edges at -road_l/road_r
    walk_l, walk_r = road_l + rng.uniform(2.0, 4.5), road_r + rng.uniform(2.0, 4.5)
    face_l = walk_l + (0.0 if rng.random() < 0.5 else rng.uniform(1.0, 4.0))
    face_r = walk_r + (0.0 if rng.random() < 0.5 else rng.uniform(1.0, 4.0))
    cross = None  # a cross street: depth range without facades, road across the whole width
    if rng.random() < 0.3:
        z0 = rng.uniform(15.0, 45.0)
        cross = (z0, z0 + rng.uniform(8.0, 14.0))

    # Sky and the base ground (terrain shows wherever nothing else covers the ground).
    overcast = rng.random() < 0.4
    scene.attrs['sky'] = ((150, 155, 165) if overcast else
                          (70, 125, 200), (200, 202, 205) if overcast else (175, 200, 225))
    scene.add('sky', [(0, 0), (w - 1, 0), (w - 1, cam.yh + 1), (0, cam.yh + 1)])
    scene.add('terrain', [(0, cam.yh), (w - 1, cam.yh), (w - 1, h - 1), (0, h - 1)],
              color=_color(rng, (76, 96, 50), 10))

    # The far end of the street: a building or a tree line across it.
    far_h = rng.uniform(8.0, 25.0)
    if rng.random() < 0.7:
        scene.add_world('building', [(-face_l - 30, 0, z_end), (-face_l - 30, far_h, z_end),
                                     (face_r + 30, far_h, z_end), (face_r + 30, 0, z_end)],
                        **_building_attrs(rng))
    else:
        _add_tree_line(scene, rng, -face_l - 30, face_r + 30, z_end, z_end, far_h * 0.5,
                       across=True)

    # Facades on both sides, far to near so that nearer ones overlap further ones.
    for side, face in ((-1, face_l), (1, face_r)):
        segments, z = [], z_near
        while z < z_end:
            length = rng.uniform(8.0, 25.0) * (1.0 + z / 60.0)
            segments.append((z, min(z + length, z_end), rng.random(), rng.uniform(6.0, 24.0)))
            z += length
        for z0, z1, kind, height in reversed(segments):
            if cross is not None and z1 > cross[0] and z0 < cross[1]:
                z0, z1 = (z0, cross[0]) if z0 < cross[0] else (cross[1], z1)
                if z1 - z0 < 2.0:
                    continue
            X = side * face
            if kind < 0.75:
                scene.add_world('building', [(X, 0, z0), (X, height, z0), (X, height, z1),
                                             (X, 0, z1)], **_building_attrs(rng))
            elif kind < 0.92:
                _add_tree_line(scene, rng, X, X, z0, z1, height * 0.45)
            # else: a gap (terrain and sky)

    # Ground: road and sidewalks from under the camera to the far end; a cross street on top.
    scene.attrs['road'] = _road_attrs(rng, road_l, road_r)
    scene.add_world('road', [(-road_l, 0, z_near), (road_r, 0, z_near), (road_r, 0, z_end),
                             (-road_l, 0, z_end)], color=_color(rng, (86, 86, 90), 8))
    for x0, x1 in ((-walk_l, -road_l), (road_r, walk_r)):
        scene.add_world('sidewalk', [(x0, 0, z_near), (x1, 0, z_near), (x1, 0, z_end),
                                     (x0, 0, z_end)], color=_color(rng, (104, 100, 100), 8))
    if cross is not None:
        scene.add_world('road', [(-200, 0, cross[0]), (200, 0, cross[0]), (200, 0, cross[1]),
                                 (-200, 0, cross[1])], color=_color(rng, (86, 86, 90), 8))

    # Walls and fences along the outer edge of a sidewalk.
    for side, walk in ((-1, walk_l), (1, walk_r)):
        for _ in range(int(rng.integers(0, 3))):
            z0 = _log_uniform(rng, 4.0, 60.0)
            z1 = z0 + rng.uniform(4.0, 25.0)
            is_wall = rng.random() < 0.5
            height = rng.uniform(0.8, 2.6) if is_wall else rng.uniform(0.9, 2.0)
            X = side * walk
            scene.add_world('wall' if is_wall else 'fence', [(X, 0, z0), (X, height, z0),
                                                             (X, height, z1), (X, 0, z1)],
                            color=_color(rng, (136, 126, 116) if is_wall else (128, 118, 104), 12))

    # Standing objects, drawn far to near: (Z, callable that adds the polygons).
    items = []

    def later(z, fn, *args):
        items.append((z, len(items), fn, args))

    for side, road, walk in ((-1, road_l, walk_l), (1, road_r, walk_r)):
        for _ in range(int(rng.integers(2, 6))):  # poles at the kerb
            later(
                _log_uniform(rng, 4.5, 70.0), _add_pole, side * (road + rng.uniform(0.3, 0.7)),
                side, rng.uniform(3.5, 7.5), _pole_attachments(rng))
        for _ in range(int(rng.integers(0, 4))):  # trees on the sidewalk
            later(
                _log_uniform(rng, 5.0, 80.0), _add_tree, side * (walk - rng.uniform(0.4, 1.0)),
                rng.uniform(2.5, 5.0), rng.uniform(1.2, 2.8), rng.uniform(0.75, 1.2, 14))
        for _ in range(int(rng.integers(1, 5))):  # pedestrians on the sidewalk
            later(
                _log_uniform(rng, 6.0, 70.0), _add_person,
                side * (road + rng.uniform(0.4, walk - road - 0.3)), rng.uniform(1.55, 1.95),
                _person_attrs(rng))
        for _ in range(int(rng.integers(0, 3))):  # parked bicycles, static clutter
            if rng.random() < 0.6:
                later(
                    _log_uniform(rng, 5.0, 50.0), _add_two_wheeler,
                    side * (road + rng.uniform(0.5, 1.5)), 'bicycle', rng.uniform(1.0, 1.7), None,
                    rng.random() < 0.5)
            else:
                later(
                    _log_uniform(rng, 5.0, 50.0), _add_static,
                    side * (walk - rng.uniform(0.3, 1.0)), rng.uniform(0.5, 1.0),
                    rng.uniform(0.6, 1.3), _color(rng, (105, 82, 60), 25))
        parked = np.sort(rng.uniform(5.0, 70.0, int(rng.integers(0, 5))))
        last = -np.inf
        for z in parked:  # parked cars along the kerb, at least one car length apart
            if z - last > 5.5:
                later(
                    float(z), _add_vehicle, side * (road - 1.1), 'car',
                    _color(rng, _CAR_COLORS[int(rng.integers(len(_CAR_COLORS)))], 15))
                last = z
    if rng.random() < 0.2:  # a pedestrian crossing the road
        later(
            _log_uniform(rng, 8.0, 40.0), _add_person, rng.uniform(-road_l + 0.5, road_r - 0.5),
            rng.uniform(1.55, 1.95), _person_attrs(rng))
    lane_x = lambda: rng.uniform(-road_l + 2.4, road_r - 2.4)  # noqa: E731
    for _ in range(int(rng.integers(1, 4))):  # moving cars
        later(
            _log_uniform(rng, 7.0, 90.0), _add_vehicle, lane_x(), 'car',
            _color(rng, _CAR_COLORS[int(rng.integers(len(_CAR_COLORS)))], 15))
    if rng.random() < 0.35:
        later(
            _log_uniform(rng, 12.0, 70.0), _add_vehicle, lane_x(), 'truck',
            _color(rng, ((210, 210, 210), (160, 40, 30), (40, 70, 140))[int(rng.integers(3))], 15))
    if rng.random() < 0.25:
        later(
            _log_uniform(rng, 15.0, 70.0), _add_vehicle, lane_x(), 'bus',
            _color(rng, ((220, 190, 40), (190, 40, 40), (225, 225, 220))[int(rng.integers(3))], 12))
    for _ in range(int(rng.integers(0, 3))):  # riders on bicycles or motorcycles near a kerb
        side, road = (-1, road_l) if rng.random() < 0.5 else (1, road_r)
        later(
            _log_uniform(rng, 7.0, 60.0), _add_two_wheeler, side * (road - rng.uniform(0.6, 1.4)),
            'bicycle' if rng.random() < 0.65 else 'motorcycle', rng.uniform(0.9, 1.7),
            _rider_attrs(rng),
            rng.random() < 0.5)
    for z, _, fn, args in sorted(items, key=lambda it: (-it[0], it[1])):
        fn(scene, z, *args)

    # Void: the ego vehicle's bonnet at the bottom, sometimes an out-of-roi border strip.
    if rng.random() < 0.6:
        hood = h * rng.uniform(0.04, 0.09)
        xs = np.linspace(0, w - 1, 9)
        top = [(x, h - 1 - hood * (1 - 0.5 * ((x - w / 2) / (w / 2))**2)) for x in xs]
        scene.add('ego vehicle', top + [(w - 1, h - 1), (0, h - 1)])
    if rng.random() < 0.25:
        width = int(rng.integers(1, 4))
        x0 = 0 if rng.random() < 0.5 else w - width
        scene.add('out of roi', [(x0, 0), (x0 + width - 1, 0), (x0 + width - 1, h - 1),
                                 (x0, h - 1)])
    if len(scene.objects) > _MAX_OBJECTS:
        raise RuntimeError(f'scene has {len(scene.objects)} polygons, more than {_MAX_OBJECTS}')
    return scene


def _building_attrs(rng):
    return dict(
        color=_color(rng, _BUILDING_COLORS[int(rng.integers(len(_BUILDING_COLORS)))], 10),
        period=(int(rng.integers(4, 8)), int(rng.integers(4, 8))))


def _road_attrs(rng, road_l, road_r):
    """Lane lines: (X, dashed) in metres; edge lines solid, lane dividers dashed."""
    lines = [(-road_l + 0.3, False), (road_r - 0.3, False)]
    n_lanes = max(1, int(round((road_l + road_r) / 3.3)))
    for k in range(1, n_lanes):
        lines.append((-road_l + k * (road_l + road_r) / n_lanes, True))
    return dict(lines=lines, dash=rng.uniform(7.0, 11.0))


def _add_tree_line(scene, rng, x0, x1, z0, z1, height, across=False):
    """A hedge / row of trees: an irregular top between (x0, z0) and (x1, z1) at ground."""
    n = 10
    t = np.linspace(0, 1, n)
    tops = height * rng.uniform(0.6, 1.3, n)
    pts = [(x0 + (x1 - x0) * ti, top, z0 + (z1 - z0) * ti) for ti, top in zip(t, tops)]
    pts = [(x1, 0, z1) if not across else (x1, 0, z0)] + pts[::-1] + [(x0, 0, z0)]
    scene.add_world('vegetation', pts, color=_color(rng, (66, 100, 44), 10))


def _pole_attachments(rng):
    kind = rng.random()
    if kind < 0.45:
        return ('sign', int(rng.integers(4)), rng.uniform(0.55,
                                                          0.9), int(rng.integers(3)), rng.random()
                < 0.3)
    if kind < 0.8:
        return ('light', int(rng.integers(3)), rng.uniform(1.5, 5.0) if rng.random() < 0.4 else 0.0)
    return ('plain', )


def _add_pole(scene, Z, X, side, height, attachment):
    """A thin pole (1-3 px wide) with a traffic sign or a traffic light (maybe on an arm)."""
    cam = scene.cam
    xc, yb = cam.project(X, 0, Z)
    _, yt = cam.project(X, height, Z)
    pw = int(np.clip(round(cam.scale(0.15, Z)), 1, 3))
    x0 = int(round(xc - (pw - 1) / 2))
    scene.add('pole', [(x0, yt), (x0 + pw - 1, yt), (x0 + pw - 1, yb), (x0, yb)])
    if attachment[0] == 'sign':
        _, shape, size, color, second = attachment
        for k in range(2 if second else 1):
            _, yc = cam.project(X, height - size * (0.6 + 1.15 * k), Z)
            _add_sign(scene, xc, yc, max(cam.scale(size, Z), 2.0), shape, color)
    elif attachment[0] == 'light':
        _, state, arm = attachment
        lx = X
        if arm > 0:  # a horizontal arm over the road (pole class, 1-2 px thick)
            lx = X - side * arm
            xa, _ = cam.project(lx, height, Z)
            th = int(np.clip(round(cam.scale(0.12, Z)), 1, 2))
            y0 = int(round(yt))
            scene.add('pole', [(min(xa, xc), y0), (max(xa, xc), y0), (max(xa, xc), y0 + th - 1),
                               (min(xa, xc), y0 + th - 1)])
        xl, yl = cam.project(lx, height - (0.05 if arm > 0 else 0.3), Z)
        bw, bh = max(cam.scale(0.35, Z), 1.5), max(cam.scale(0.95, Z), 3.0)
        scene.add('traffic light', [(xl - bw / 2, yl), (xl + bw / 2, yl), (xl + bw / 2, yl + bh),
                                    (xl - bw / 2, yl + bh)], state=state)


def _add_sign(scene, xc, yc, size, shape, color):
    r = size / 2
    if shape == 0:  # rectangle
        pts = [(xc - r, yc - r * 0.8), (xc + r, yc - r * 0.8), (xc + r, yc + r * 0.8),
               (xc - r, yc + r * 0.8)]
    elif shape == 1:  # triangle
        pts = [(xc, yc - r), (xc + r, yc + r * 0.8), (xc - r, yc + r * 0.8)]
    elif shape == 2:  # diamond
        pts = _regular_polygon(xc, yc, r, 4, phase=np.pi / 2)
    else:  # round
        pts = _regular_polygon(xc, yc, r, 8, phase=np.pi / 8)
    scene.add('traffic sign', pts, sign=color)


def _add_tree(scene, Z, X, crown_y, crown_r, jitter):
    cam = scene.cam
    xc, yb = cam.project(X, 0, Z)
    _, yc = cam.project(X, crown_y, Z)
    tw = max(cam.scale(0.3, Z), 1.0)
    scene.add('vegetation', [(xc - tw / 2, yb), (xc - tw / 2, yc), (xc + tw / 2, yc),
                             (xc + tw / 2, yb)], color=(70, 60, 45))  # the trunk
    scene.add('vegetation',
              _regular_polygon(xc, yc, cam.scale(crown_r, Z), len(jitter), jitter=jitter),
              color=(64, 98, 42))


def _person_attrs(rng):
    return dict(color=_CLOTHES[int(rng.integers(len(_CLOTHES)))],
                color2=_CLOTHES[int(rng.integers(len(_CLOTHES)))])


def _rider_attrs(rng):
    return dict(color=_JACKETS[int(rng.integers(len(_JACKETS)))],
                color2=(int(rng.integers(40, 240)), int(rng.integers(40, 240)), 50))


def _add_person(scene, Z, X, height, attrs):
    scene.add('person', _template(scene.cam, _PERSON, X, Z, height * 0.3, height), **attrs)


def _add_two_wheeler(scene, Z, X, label, length, rider, mirror):
    """A bicycle or motorcycle seen from an angle (``length`` = visible length), maybe ridden."""
    cam = scene.cam
    tpl, height = (_BICYCLE, 1.0) if label == 'bicycle' else (_MOTORCYCLE, 1.1)
    scene.add(label, _template(cam, tpl, X, Z, length, height, mirror=mirror))
    if rider is not None:
        scene.add('rider', _template(cam, _RIDER, X, Z, 0.75, 1.05, base=0.65, mirror=mirror),
                  **rider)


def _add_static(scene, Z, X, width, height, color):
    scene.add_hull('static', _box(X - width / 2, X + width / 2, 0, height, Z, Z + width),
                   color=color)


def _add_vehicle(scene, Z, X, label, color):
    """Car, truck or bus: the silhouette of its boxes, rear face at depth Z."""
    if label == 'car':
        pts = _box(X - 0.9, X + 0.9, 0.0, 0.9, Z, Z + 4.4) + _box(X - 0.75, X + 0.75, 0.9, 1.45,
                                                                  Z + 1.1, Z + 3.3)
    elif label == 'truck':
        pts = _box(X - 1.25, X + 1.25, 0.4, 3.6, Z, Z + 6.5) + _box(X - 1.2, X + 1.2, 0.0, 2.9,
                                                                    Z + 6.6, Z + 8.8)
    else:
        pts = _box(X - 1.25, X + 1.25, 0.0, 3.1, Z, Z + 12.0)
    scene.add_hull(label, pts, color=color)
