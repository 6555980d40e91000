"""The DRN score of generated images: ``python -m drn_mm.score`` (same arguments; see there).

    python tools/drn_score.py --images results/synthesized --labels data/cityscapes/gtFine/val \\
        --checkpoint drn-d-105_ms_cityscapes.pth --protocol native [--ms] \\
        --out-json score.json --out-md score.md
"""
import sys

from drn_mm.score import main

if __name__ == '__main__':
    sys.exit(main())
