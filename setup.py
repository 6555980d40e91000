"""drn_mm: Dilated Residual Networks for MMSegmentation and MMPretrain."""
import os.path as osp
from setuptools import find_packages, setup


def read_version():
    namespace = {}
    with open(osp.join(osp.dirname(__file__), 'drn_mm', 'version.py')) as f:
        exec(f.read(), namespace)
    return namespace['__version__']


setup(
    name='drn_mm',
    version=read_version(),
    description='Dilated Residual Networks (Yu, Koltun, Funkhouser, CVPR 2017) '
    'for MMSegmentation and MMPretrain',
    long_description=open('README.md').read() if osp.exists('README.md') else '',
    long_description_content_type='text/markdown',
    license='BSD-3-Clause',
    packages=find_packages(include=['drn_mm', 'drn_mm.*']),
    python_requires='>=3.9',
    install_requires=[
        'torch>=2.0',
        'torchvision>=0.15',
        'numpy>=1.22',
        'mmengine>=0.10.0,<0.11',
        # mmcv with compiled ops; PyPI has only its sdist: tools/setup_env.sh builds it.
        'mmcv>=2.0.0rc4,<2.2.0',
        'mmsegmentation>=1.2.0,<1.3',
        'mmpretrain>=1.2.0,<1.3',
        'cityscapesscripts>=2.2',
        # imported by mmsegmentation but not declared by it
        'ftfy>=6.0',
        'regex>=2022.1',
        'opencv-python>=4.5',
        'matplotlib>=3.5',
        'Pillow>=9.0',
        # pkg_resources: mmengine resolves `mmseg::` config bases through it
        'setuptools<82',
    ],
    extras_require={
        'tests': [
            'pytest>=7',
            'hypothesis>=6.0',
            'onnx>=1.14',
            'onnxruntime>=1.16',
            # the linters (tools/lint.sh), pinned so their verdicts do not drift
            'flake8==7.5.0',
            'isort==9.0.2',
            'yapf==0.43.0'
        ],
    },
    zip_safe=False,
)
