"""Check the environment: versions, mmcv's compiled ops, CPU/GPU, drn_mm's registrations and the
known traps of this stack; exit code 1 on a problem.

    python tools/doctor.py          # the same as: python -m drn_mm.doctor

Runs drn_mm/doctor.py by path, so it reports even when ``import drn_mm`` itself fails.
"""
import os.path as osp
import runpy
import sys

if __name__ == '__main__':
    doctor = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'drn_mm', 'doctor.py')
    sys.exit(runpy.run_path(doctor)['main']())
