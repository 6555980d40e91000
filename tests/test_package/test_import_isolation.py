"""``import drn_mm`` registers and patches nothing: mmengine's checkpoint schemes and file
backends, HistoryBuffer, torch's safe-loading globals and mmpretrain's ModelHub are as they were,
but for what drn_mm registers through their public APIs (the ``drn://`` scheme; the
``drn_atomic_local`` file backend, with no prefix; its classifiers in the ModelHub).

Run in a fresh interpreter (this test process imported drn_mm long ago), after importing what
drn_mm itself imports (mmseg, mmpretrain), so that only drn_mm's own changes show."""
import json
import subprocess
import sys

from tool_runs import REPO

PROBE = r'''
import json
import torch
# what drn_mm imports: their own imports add torch safe globals (torch.distributed.tensor does)
import mmpretrain.models  # noqa: F401
import mmseg.models  # noqa: F401
from mmengine.fileio.backends import backends, prefix_to_backends
from mmengine.logging import HistoryBuffer
from mmengine.runner import CheckpointLoader
from mmpretrain.apis import ModelHub

schemes = dict(CheckpointLoader._schemes)
history = dict(vars(HistoryBuffer))
statistics = dict(HistoryBuffer._statistics_methods)
safe = list(torch.serialization.get_safe_globals())
hub = dict(ModelHub._models_dict)
file_backends, prefixes = dict(backends), dict(prefix_to_backends)

import drn_mm
from drn_mm.apis.scheme import load_from_drn

after = dict(CheckpointLoader._schemes)
out = dict(
    changed_schemes=[p for p, f in schemes.items() if after.get(p) is not f],
    new_schemes=sorted(set(after) - set(schemes)),
    drn_loader=after.get('drn://') is load_from_drn,
    history_changed=sorted(k for k in set(history) | set(vars(HistoryBuffer))
                           if history.get(k) is not vars(HistoryBuffer).get(k)),
    statistics_changed=dict(HistoryBuffer._statistics_methods) != statistics,
    safe_globals_changed=list(torch.serialization.get_safe_globals()) != safe,
    hub_changed=[n for n, m in hub.items() if ModelHub._models_dict.get(n) is not m],
    hub_new=sorted(set(ModelHub._models_dict) - set(hub)),
    backends_changed=[n for n, b in file_backends.items() if backends.get(n) is not b],
    backends_new=sorted(set(backends) - set(file_backends)),
    prefixes_changed=dict(prefix_to_backends) != prefixes,
)
print(json.dumps(out))
'''


def test_import_drn_mm_changes_only_what_it_registers():
    result = subprocess.run([sys.executable, '-c', PROBE], capture_output=True, text=True, cwd=REPO,
                            check=True)
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out['changed_schemes'] == []  # local path, http(s), s3, open-mmlab, ... untouched
    assert out['new_schemes'] == ['drn://'] and out['drn_loader']
    assert out['history_changed'] == [] and not out['statistics_changed']
    assert not out['safe_globals_changed']
    assert out['hub_changed'] == []
    # drn_mm's atomic local backend: a new name, no URI prefix; mmengine's backends untouched
    assert out['backends_changed'] == [] and out['backends_new'] == ['drn_atomic_local']
    assert not out['prefixes_changed']
    import os.path as osp

    from modelindex.load_model_index import load

    from drn_mm.apis.hub import CLASSIFIER_METAFILE
    classifiers = sorted(m.name.lower() for m in load(osp.join(REPO, CLASSIFIER_METAFILE)).models)
    assert out['hub_new'] == classifiers and len(classifiers) == 8
