"""lessons.cpu: 8-bit dot-product instructions read from /proc/cpuinfo, and a sentence true for each case."""
import pytest

from lessons import cpu
from tests.conftest import NATIVE_NOTICE

X86_VNNI = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz
flags\t\t: fpu vme sse4_2 avx avx2 fma avx512f avx512bw avx512_vnni
processor\t: 1
flags\t\t: fpu
"""
X86_AVX2 = "model name\t: AMD EPYC 7B12\nflags\t\t: fpu sse4_2 avx avx2 fma\n"
ARM_DOTPROD = "processor\t: 0\nFeatures\t: fp asimd evtstrm aes crc32 asimddp\nCPU implementer\t: 0x41\n"
ARM_PLAIN = "processor\t: 0\nFeatures\t: fp asimd evtstrm\n"
ALDER_LAKE = "flags\t\t: avx avx2 avx_vnni\n"


def write(tmp_path, text):
    path = tmp_path / "cpuinfo"
    path.write_text(text)
    return path


@pytest.mark.parametrize("text, found", [
    (X86_VNNI, ["AVX-512 VNNI"]), (X86_AVX2, []), (ARM_DOTPROD, ["ARM dotprod"]), (ARM_PLAIN, []),
    (ALDER_LAKE, ["AVX-VNNI"]),
])
def test_dot_product_instructions_are_found_on_x86_and_arm(tmp_path, text, found):
    assert cpu.dot_product_instructions(cpu.read_flags(write(tmp_path, text))) == found


def test_only_the_first_processors_flags_are_read():
    assert "avx512_vnni" in cpu.parse_flags(X86_VNNI)


@pytest.mark.parametrize("text, phrase", [
    (X86_VNNI, "AVX-512 VNNI"), (X86_AVX2, "none (AVX2 only)"), (ARM_PLAIN, "none (ARM NEON only)"),
    (ARM_DOTPROD, "ARM dotprod"),
])
def test_describe_names_what_the_cpu_has(text, phrase):
    assert cpu.describe(cpu.parse_flags(text)) == phrase


def test_no_cpuinfo_means_unknown_not_an_error(tmp_path):
    """macOS and Windows have no /proc/cpuinfo; a container may hide the flags line."""
    assert cpu.read_flags(tmp_path / "missing") is None
    assert cpu.read_flags(write(tmp_path, "processor\t: 0\n")) is None
    assert cpu.dot_product_instructions(None) is None
    assert cpu.describe(None).startswith("unknown")


def test_the_model_name_comes_from_cpuinfo_or_platform(tmp_path):
    assert cpu.model_name(write(tmp_path, X86_VNNI)) == "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz"
    assert cpu.model_name(tmp_path / "missing")  # platform's answer, never empty


def test_this_machine_is_read_when_it_runs_linux():
    if not cpu.CPUINFO.is_file():
        pytest.skip("no /proc/cpuinfo on this system")
    assert cpu.read_flags() is not None


@pytest.mark.parametrize("text, speed_up, says", [
    (X86_VNNI, 2.0, ["0.50× the time", "has AVX-512 VNNI", "4 times the multiply-adds"]),
    (ARM_DOTPROD, 1.6, ["has ARM dotprod", "4 times"]),
    (X86_VNNI, 0.9, ["although this CPU has AVX-512 VNNI", "fixed costs"]),
    (X86_AVX2, 0.8, ["1.25× the time", "no 8-bit dot-product instruction (AVX2 only)", "saves memory"]),
    (X86_AVX2, 1.1, ["without 8-bit dot-product instructions", "far from 4×"]),
    (None, 1.3, ["cannot be told", "VNNI on x86, dotprod on ARM"]),
])
def test_the_verdict_fits_the_cpu_and_the_measurement(text, speed_up, says):
    verdict = cpu.int8_verdict(speed_up, None if text is None else cpu.parse_flags(text))
    for phrase in says:
        assert phrase in verdict, verdict


def test_a_slow_int8_is_never_called_fast():
    for text in (X86_VNNI, X86_AVX2, ARM_DOTPROD, ARM_PLAIN):
        verdict = cpu.int8_verdict(0.7, cpu.parse_flags(text))
        assert "1.43× the time" in verdict and "times the multiply-adds of a float FMA" not in verdict


@pytest.mark.parametrize("speed_up", [0.7, 1.5])
@pytest.mark.parametrize("text", [X86_VNNI, X86_AVX2, ARM_DOTPROD, None])
def test_no_verdict_reads_like_a_native_log_line(text, speed_up):
    """The notebook prints the verdict; the notebook tests reject outputs that look like TensorFlow's own notices."""
    verdict = cpu.int8_verdict(speed_up, None if text is None else cpu.parse_flags(text))
    assert not NATIVE_NOTICE.search(verdict), verdict
