"""What this machine's CPU can do: the one reader of /proc/cpuinfo, used by the inference paths
(:mod:`drn_mm.deploy.precision`), the doctor and the benchmark. Standard library and torch only."""
import platform
from typing import Optional, Set, Tuple

__all__ = ['ISA_FLAGS', 'cpu_info', 'cpu_bf16_hardware']

#: the ISA flags that decide DRN's fast CPU paths
ISA_FLAGS = ('avx2', 'avx512f', 'avx512_vnni', 'avx512_bf16', 'amx_bf16', 'amx_int8', 'avx_vnni')


def cpu_info() -> Tuple[str, Set[str]]:
    """(CPU model, ISA flags) from /proc/cpuinfo (model from ``platform`` where it is missing)."""
    model, flags = '', set()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('flags') and not flags:
                    flags = set(line.split(':', 1)[1].split())
                elif line.startswith('model name') and not model:
                    model = line.split(':', 1)[1].strip()
    except OSError:
        pass
    return model or platform.processor() or platform.machine(), flags


def cpu_bf16_hardware(flags: Optional[Set[str]] = None) -> bool:
    """Whether this CPU computes bf16 in hardware (oneDNN's own test, else AVX-512 BF16 / AMX)."""
    try:
        import torch
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except Exception:
        flags = cpu_info()[1] if flags is None else flags
        return 'avx512_bf16' in flags or 'amx_bf16' in flags
