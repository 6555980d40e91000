"""The environment doctor: healthy here, and it names the trap it finds (exit code 1)."""
import os
import os.path as osp

from tool_runs import REPO, run, tool_command

from drn_mm import doctor


def test_healthy_environment_exits_0_and_reports_each_part():
    result = run(tool_command('doctor.py'), check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for line in ('[  ok] mmcv compiled ops', '[  ok] mmseg registry', '[  ok] mmpretrain registry',
                 '[  ok] checkpoint scheme', '[  ok] pkg_resources', '] cpu ', '] gpu ',
                 'drn_mm doctor: 0 problem(s)'):
        assert line in out, (line, out)


def test_setuptools_82_trap_is_a_problem(tmp_path):
    """setuptools >= 82 has no pkg_resources: simulated by a pkg_resources that fails to import."""
    shim = tmp_path / 'pkg_resources'
    shim.mkdir()
    (shim / '__init__.py').write_text('raise ImportError("no pkg_resources (simulated)")\n')
    env = dict(PYTHONPATH=os.pathsep.join([str(tmp_path), REPO, os.environ.get('PYTHONPATH', '')]))
    result = run(tool_command('doctor.py'), check=False, env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "[FAIL] pkg_resources" in result.stdout
    assert 'setuptools<82' in result.stdout
    assert 'problem(s): ' in result.stdout and 'pkg_resources' in result.stdout.splitlines()[-1]


def test_mmcv_outside_mmsegs_range_is_a_problem(monkeypatch):
    monkeypatch.setattr(doctor, '_version', lambda m: '2.2.0' if m == 'mmcv' else None)
    findings = {f.name: f for f in doctor.check_mmcv()}
    assert findings['mmcv version'].status == doctor.FAIL
    assert 'asserts 2.0.0rc4 <= mmcv < 2.2.0' in findings['mmcv version'].detail


def test_a_check_that_raises_is_reported_not_fatal():

    def broken():
        raise RuntimeError('boom')

    findings = doctor.run_checks([broken])
    assert findings == [doctor.Finding(doctor.FAIL, 'broken', 'RuntimeError: boom')]
    assert osp.isfile(doctor.__file__)


def test_openmim_is_found_by_its_distribution():
    """openmim is installed without its dataset-download dependencies, so `import mim` fails;
    the doctor said "not installed" although `mim train/test` work. Its metadata says 0.3.9."""
    from importlib import metadata

    from drn_mm.doctor import check_optional
    line = next(f for f in check_optional() if f.name == 'mim')
    assert line.detail == metadata.version('openmim')
