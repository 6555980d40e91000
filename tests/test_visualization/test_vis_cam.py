"""tools/vis_cam.py writes a PNG per image with the class map, the predicted box and the
ground-truth box; the drawing is checked on a classifier whose answer is known."""
import os.path as osp
import re
import subprocess
import sys

import numpy as np
import torch
from loc_data import voc_xml, write_image
from PIL import Image

import drn_mm  # noqa: F401

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PYTHON = osp.join(REPO, '.venv', 'bin', 'python')
if not osp.exists(PYTHON):
    PYTHON = sys.executable
CONFIG = osp.join(REPO, 'configs/drn/drn-c-26_cam_8xb32_in1k-loc.py')
TINY = {
    'model.backbone.channels': (4, 8, 8, 8, 16, 16, 16, 16),
    'model.head.in_channels': 16,
    'test_dataloader.dataset.pipeline.1.scale': (64, 64)
}
GREEN, RED = [0, 255, 0], [255, 0, 0]


def test_vis_cam_tool_writes_png(tmp_path):
    from drn_mm.apis import init_classifier
    model = init_classifier(CONFIG, None, cfg_options=TINY)
    checkpoint = str(tmp_path / 'tiny.pth')
    torch.save({'state_dict': model.state_dict()}, checkpoint)
    images = [str(tmp_path / 'a.jpg'), str(tmp_path / 'b.png')]
    write_image(images[0], 48, 80, seed=1)
    write_image(images[1], 70, 50, seed=2)
    xml_dir = tmp_path / 'boxes'
    xml_dir.mkdir()
    (xml_dir / 'b.xml').write_text(voc_xml('b', 70, 50, [('n01440764', (5, 9, 31, 41))]))
    options = [f'{k}={v}'.replace(' ', '') for k, v in TINY.items()]
    proc = subprocess.run([PYTHON, 'tools/vis_cam.py', CONFIG, checkpoint] + images + [
        '--out-dir',
        str(tmp_path / 'vis'), '--gt-xml-dir',
        str(xml_dir), '--protocol', 'cam', '--cfg-options'
    ] + options, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [line for line in proc.stdout.splitlines() if ' -> ' in line]
    assert len(lines) == 2, proc.stdout
    for image, line, (height, width) in zip(images, lines, [(48, 80), (70, 50)]):
        match = re.search(r'\(class (\d+), score ([\d.]+)\), box \(([-\d., ]+)\) -> (\S+)$', line)
        assert match and line.startswith(image), line
        assert 0 <= int(match.group(1)) < 1000
        x1, y1, x2, y2 = (float(v) for v in match.group(3).split(', '))
        assert 0 <= x1 <= x2 <= width and 0 <= y1 <= y2 <= height
        out = match.group(4)
        assert out == str(tmp_path / 'vis' / (osp.splitext(osp.basename(image))[0] + '.png'))
        picture = np.asarray(Image.open(out))
        assert picture.shape == (height, width, 3)
        original = np.asarray(Image.open(image).convert('RGB'))
        assert np.abs(picture.astype(int) - original).mean() > 5  # the heat map is overlaid
    # b.png's ground truth (5, 9, 31, 41) in red: its left edge at x = 5, y = 20..30
    picture = np.asarray(Image.open(str(tmp_path / 'vis' / 'b.png')))
    assert any(picture[y, 5].tolist() == RED for y in range(20, 30))


def test_visualize_cam_draws_the_known_answer(tmp_path):
    """fc weights 0, bias 2 for class 7: every cell of the class map says class 7 with value 2
    > t = 0, so the paper box is the whole image (drawn green along its right edge)."""
    from drn_mm.apis import init_classifier
    from drn_mm.visualization import visualize_cam
    model = init_classifier(CONFIG, None, cfg_options=TINY)
    with torch.no_grad():
        model.head.fc.weight.zero_()
        model.head.fc.bias.zero_()
        model.head.fc.bias[7] = 2.0
    image = str(tmp_path / 'c.jpg')
    write_image(image, 60, 90)
    result = visualize_cam(model, image, str(tmp_path / 'c.png'), protocol='paper', threshold=0.0,
                           gt_boxes=[(10, 20, 40, 50)])
    assert result['label'] == 7 and result['box'] == [0, 0, 90, 60]
    assert result['class_name'].startswith('cock')  # ImageNet class 7
    picture = np.asarray(Image.open(str(tmp_path / 'c.png')))
    assert picture.shape == (60, 90, 3)
    assert picture[30, 89].tolist() == GREEN and picture[59, 45].tolist() == GREEN
    assert picture[35, 10].tolist() == RED  # GT left edge
