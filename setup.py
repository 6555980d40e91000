"""drn_mm: Dilated Residual Networks for MMSegmentation and MMPretrain."""
import os
import os.path as osp
import shutil
import sys
from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

ROOT = osp.dirname(osp.abspath(__file__))
#: shipped inside the package as drn_mm/.mim/, the layout mim and mmengine look for
MIM_FILES = ('configs', 'tools', 'model-index.yml')


def read_version():
    namespace = {}
    with open(osp.join(osp.dirname(__file__), 'drn_mm', 'version.py')) as f:
        exec(f.read(), namespace)
    return namespace['__version__']


def _replace(path):
    if osp.islink(path) or osp.isfile(path):
        os.remove(path)
    elif osp.isdir(path):
        shutil.rmtree(path)


def link_mim_files():
    """A develop / editable install: drn_mm/.mim/ holds symlinks to the checkout's configs, tools
    and model index (they follow edits). Wheels and sdists get copies (BuildPyWithMim)."""
    if not {'develop', 'editable_wheel'} & set(sys.argv):
        return
    mim = osp.join(ROOT, 'drn_mm', '.mim')
    os.makedirs(mim, exist_ok=True)
    for name in MIM_FILES:
        _replace(osp.join(mim, name))
        os.symlink(osp.relpath(osp.join(ROOT, name), mim), osp.join(mim, name))


class BuildPyWithMim(build_py):
    """build_py, plus copies of configs, tools and the model index in the built package's .mim/
    (the source tree is left as it is)."""

    def run(self):
        super().run()
        if self.editable_mode if hasattr(self, 'editable_mode') else False:
            return
        mim = osp.join(self.build_lib, 'drn_mm', '.mim')
        os.makedirs(mim, exist_ok=True)
        for name in MIM_FILES:
            src, dst = osp.join(ROOT, name), osp.join(mim, name)
            _replace(dst)
            if osp.isdir(src):
                shutil.copytree(src, dst, ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
            else:
                shutil.copyfile(src, dst)


link_mim_files()
setup(
    name='drn_mm',
    version=read_version(),
    description='Dilated Residual Networks (Yu, Koltun, Funkhouser, CVPR 2017) '
    'for MMSegmentation and MMPretrain',
    long_description=open('README.md').read() if osp.exists('README.md') else '',
    long_description_content_type='text/markdown',
    license='BSD-3-Clause',
    packages=find_packages(include=['drn_mm', 'drn_mm.*']),
    cmdclass={'build_py': BuildPyWithMim},
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
        # pictures: the TensorBoard backend, mmseg's/mmpretrain's analysis plots, and the grad-cam
        # mmpretrain's tools/visualization/vis_cam.py was written for (1.5 changed its API)
        'vis': ['tensorboard>=2.10', 'seaborn>=0.12', 'grad-cam>=1.3.7,<1.5'],
        # `mim search/train/test drn_mm` (its opendatalab dependency is for dataset downloads)
        'mim': ['openmim>=0.3.9'],
        'tests': [
            'pytest>=7',
            # tools/run_tests.sh runs a worker per core
            'pytest-xdist>=3.5',
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
