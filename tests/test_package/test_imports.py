"""The package's import graph: no cycles, the library core never imports the tooling, and
nothing outside drn_mm.benchmark imports it.

Every import statement of every module under drn_mm/ counts, at the top level and inside
functions alike (an import hidden in a function is still an arrow). An import resolves to the
deepest drn_mm module or package that exists (``from ..models import layers`` -> the module
``drn_mm.models.layers``; ``from ..apis import build_model`` -> the package ``drn_mm.apis``).
"""
import ast
import os
import os.path as osp

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PACKAGE = osp.join(REPO, 'drn_mm')


def module_files():
    """Dotted module name -> file, for every .py under drn_mm/ (``__init__`` names the package)."""
    modules = {}
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            if not name.endswith('.py'):
                continue
            path = osp.join(folder, name)
            parts = osp.relpath(path, REPO)[:-3].split(os.sep)
            if parts[-1] == '__init__':
                parts = parts[:-1]
            modules['.'.join(parts)] = path
    return modules


def _resolve(target: str, modules) -> str:
    while target not in modules:
        target = target.rpartition('.')[0]
    return target


def imports_of(module: str, path: str, modules):
    """The drn_mm modules ``module`` imports (each with its line)."""
    is_package = osp.basename(path) == '__init__.py'
    with open(path) as f:
        tree = ast.parse(f.read(), path)
    found = []
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split('.') if is_package else module.split('.')[:-1]
                base = base[:len(base) - (node.level - 1)]
                prefix = '.'.join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ''
            # ``from X import name``: name may be a submodule of X
            targets = [
                f'{prefix}.{alias.name}' if f'{prefix}.{alias.name}' in modules else prefix
                for alias in node.names
            ]
        for target in targets:
            if target == 'drn_mm' or target.startswith('drn_mm.'):
                found.append((_resolve(target, modules), node.lineno))
    return found


def import_graph():
    modules = module_files()
    return {m: imports_of(m, path, modules) for m, path in modules.items()}


def find_cycle(graph):
    """A list of modules forming a cycle, or None."""
    state, stack = {}, []

    def visit(node):
        state[node] = 'open'
        stack.append(node)
        for target, _ in graph.get(node, ()):
            if target == node:
                continue
            if state.get(target) == 'open':
                return stack[stack.index(target):] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = 'done'
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_walker_sees_function_level_and_relative_imports():
    graph = import_graph()
    targets = {t for t, _ in graph['drn_mm.apis.model']}
    # `from .. import models` and `from .config import ...`: relative imports resolved
    assert {'drn_mm.models', 'drn_mm.apis.config', 'drn_mm.models.utils.checkpoint'} <= targets
    # imports inside functions count
    assert 'drn_mm.models.utils.checkpoint' in {
        t
        for t, _ in graph['drn_mm.models.backbones.drn_checkpoint']
    }
    assert find_cycle({'a': [('b', 1)], 'b': [('c', 1)], 'c': [('a', 1)]}) == ['a', 'b', 'c', 'a']
    assert find_cycle({'a': [('b', 1)], 'b': []}) is None


def test_no_import_cycles():
    cycle = find_cycle(import_graph())
    assert cycle is None, 'import cycle: ' + ' -> '.join(cycle)


def test_nothing_outside_the_benchmark_imports_it():
    bad = [
        f'{m} line {line} imports {t}' for m, targets in import_graph().items()
        if not (m == 'drn_mm.benchmark' or m.startswith('drn_mm.benchmark.')) for t, line in targets
        if t == 'drn_mm.benchmark' or t.startswith('drn_mm.benchmark.')
    ]
    assert not bad, bad


#: the library: what configs, runners and users' code build on
CORE = ('models', 'datasets', 'evaluation', 'engine', 'apis', 'deploy', 'registry', 'hardware',
        'version', 'visualization')
#: tools over the library: never imported by it
TOOLING = ('doctor', 'benchmark', 'analysis', 'demo', 'score')


def _part(module: str) -> str:
    parts = module.split('.')
    return parts[1] if len(parts) > 1 else ''


def test_the_core_never_imports_the_tooling():
    graph = import_graph()
    assert {_part(m) for m in graph} - {''} <= set(CORE) | set(TOOLING), 'a package of neither'
    bad = [
        f'{m} line {line} imports {t}' for m, targets in graph.items() if _part(m) in CORE
        for t, line in targets if _part(t) in TOOLING
    ]
    assert not bad, bad


def test_the_tooling_check_sees_a_violation():
    """The rule's own check: an import of the doctor from deploy would be caught."""
    graph = {'drn_mm.deploy.precision': [('drn_mm.doctor', 3)]}
    bad = [t for m, ts in graph.items() if _part(m) in CORE for t, _ in ts if _part(t) in TOOLING]
    assert bad == ['drn_mm.doctor']


@pytest.mark.parametrize('limit', [450])
def test_no_module_over_the_line_limit(limit):
    long = {m: n for m, path in module_files().items() if (n := sum(1 for _ in open(path))) > limit}
    assert not long, f'modules over {limit} lines: {long}'
