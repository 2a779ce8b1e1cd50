#!/usr/bin/env python3
"""Unit tests of peer.py's OpenBLAS core choice (pure functions; NumPy not needed).

Run by ctest as bench.peer_core_choice: python3 tests/bench/peer_test.py
"""
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer  # noqa: E402

AVX512 = {"sse2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl"}
AVX2 = {"sse2", "avx", "avx2", "fma"}
AVX = {"sse2", "avx"}


class CoreForFlagsTest(unittest.TestCase):
    def test_avx512_gets_skylakex(self):
        self.assertEqual(peer.core_for_flags(AVX512), "SkylakeX")

    def test_avx512f_without_bw_gets_haswell(self):
        self.assertEqual(peer.core_for_flags(AVX2 | {"avx512f"}), "Haswell")

    def test_avx2_fma_gets_haswell(self):
        self.assertEqual(peer.core_for_flags(AVX2), "Haswell")

    def test_avx2_without_fma_is_left_alone(self):
        self.assertIsNone(peer.core_for_flags({"avx", "avx2"}))

    def test_avx_only_and_no_flags_are_left_alone(self):
        self.assertIsNone(peer.core_for_flags(AVX))
        self.assertIsNone(peer.core_for_flags(set()))


class FallbackTest(unittest.TestCase):
    def test_generic_cores_on_avx2_are_fallbacks(self):
        for core in ("Prescott", "Nehalem", "Core2", "Sandybridge", "Barcelona", "Unknown"):
            self.assertTrue(peer.is_fallback_core(core, AVX2), core)

    def test_avx2_cores_are_not(self):
        for core in ("Haswell", "Zen", "SkylakeX"):
            self.assertFalse(peer.is_fallback_core(core, AVX2), core)
        self.assertFalse(peer.is_fallback_core("Haswell", AVX512))

    def test_generic_core_on_old_cpu_is_not(self):
        self.assertFalse(peer.is_fallback_core("Prescott", AVX))


class CoreToForceTest(unittest.TestCase):
    def test_forces_on_fallback(self):
        self.assertEqual(peer.core_to_force("Prescott", AVX2, {}), "Haswell")
        self.assertEqual(peer.core_to_force("Prescott", AVX512, {}), "SkylakeX")

    def test_keeps_a_good_core(self):
        self.assertIsNone(peer.core_to_force("Zen", AVX2, {}))

    def test_honours_the_users_coretype(self):
        self.assertIsNone(peer.core_to_force("Prescott", AVX2, {"OPENBLAS_CORETYPE": "Prescott"}))

    def test_forces_once(self):
        self.assertIsNone(peer.core_to_force("Prescott", AVX2, {peer.FORCED_MARK: "1"}))

    def test_no_openblas(self):
        self.assertIsNone(peer.core_to_force(None, AVX2, {}))


class CpuFlagsTest(unittest.TestCase):
    def test_reads_first_flags_line(self):
        with tempfile.NamedTemporaryFile("w", suffix="cpuinfo", delete=False) as f:
            f.write("processor\t: 0\nflags\t\t: fpu sse2 avx2 fma\nprocessor\t: 1\nflags\t\t: fpu\n")
        try:
            self.assertEqual(peer.cpu_flags(f.name), {"fpu", "sse2", "avx2", "fma"})
        finally:
            os.unlink(f.name)

    def test_missing_file_is_empty(self):
        self.assertEqual(peer.cpu_flags("/nonexistent/cpuinfo"), set())


if __name__ == "__main__":
    unittest.main()
