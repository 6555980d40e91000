"""Generators of the demo data sets (nothing the Runner imports).

- :mod:`drn_mm.demo.cityscapes`: street scenes in the Cityscapes layout (the main job's data).
- :mod:`drn_mm.demo.shapes`: shapes with exact boxes in the CUB-200-2011 layout (localization).
"""
from .cityscapes import generate_demo_cityscapes
from .shapes import generate_demo_shapes_cub

__all__ = ['generate_demo_cityscapes', 'generate_demo_shapes_cub']
