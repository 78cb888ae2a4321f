#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Self-test of the test harness (ctest label unit): the normaliser, the
config generator, local-host detection and the classification of upstream's
regression tests. Needs neither root nor the oracle."""
import os
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "peer"))
import confhosts  # noqa: E402
import gen_configs  # noqa: E402
import oracle_diff  # noqa: E402
import run_peer_tests  # noqa: E402
import simd_harness  # noqa: E402
import simd_soak  # noqa: E402


class Normalise(unittest.TestCase):
    def test_removes_only_repair_md_lines(self):
        text = (b"drbdsetup new-minor r0 1 0\n"
                b"drbdmeta 1 v09 /dev/sda7 internal repair-md\n"
                b"drbdmeta 1 v09 /dev/sda7 internal apply-al\n"
                b"drbdmeta 12 v08 /dev/vg/x /dev/vg/md repair-md\n"
                b"echo drbdmeta 1 v09 /dev/sda7 internal repair-md\n")
        self.assertEqual(oracle_diff.normalise(text),
                         b"drbdsetup new-minor r0 1 0\n"
                         b"drbdmeta 1 v09 /dev/sda7 internal apply-al\n"
                         b"echo drbdmeta 1 v09 /dev/sda7 internal repair-md\n")

    def test_keeps_everything_else_byte_for_byte(self):
        text = b"# /abs/path/drbd.conf\nresource r0 {\n    net {\n\tx;\n}\r\n"
        self.assertEqual(oracle_diff.normalise(text), text)


class Newer84Rewrite(unittest.TestCase):
    def test_moves_syncer_peer_device_options_and_fencing_keeping_lines(self):
        text = (b"common {\n  syncer {\n    rate 25M; # x\n    al-extents 379;\n    c-min-rate 20M;\n  }\n"
                b"  disk { on-io-error detach; }\n}\n"
                b"resource r { net { protocol C; }\n  disk {\n    fencing resource-only;\n  }\n"
                b"  on a { disk { fencing resource-only; } }\n}\n")
        out, moved = oracle_diff.newer_84_rewrite(text)
        self.assertEqual(moved, 3)
        # same lines (line numbers in the output stay), statements moved
        self.assertEqual(self.words_per_line(out), self.words_per_line(
            b"common {\n  syncer {\n # x\n    al-extents 379;\n\n  }\n"
            b"  disk { resync-rate 25M; c-min-rate 20M; on-io-error detach; }\n}\n"
            b"resource r { net { protocol C; fencing resource-only; }\n  disk {\n\n  }\n"
            b"  on a { disk { fencing resource-only; } }\n}\n"))

    @staticmethod
    def words_per_line(text):
        return [line.split() for line in text.split(b"\n")]

    def test_creates_the_target_section_after_the_source(self):
        out, moved = oracle_diff.newer_84_rewrite(b"resource r { syncer { rate 1M; } }")
        self.assertEqual(moved, 1)
        self.assertEqual(out.split(), b"resource r { syncer { } disk { resync-rate 1M; } }".split())

    def test_leaves_other_and_unbalanced_configs_alone(self):
        for text in (b"resource r { syncer { al-extents 3; } disk { resync-rate 1M; } }",
                     b"resource r { syncer { rate 1M; }", b"global { } resource r { disk { fencing x; } "):
            self.assertEqual(oracle_diff.newer_84_rewrite(text), (text, 0))


class ExitClasses(unittest.TestCase):
    def test_crash_and_timeout_are_never_a_rejection(self):
        for rc in (-11, 124, 126, 127, 134, 139):
            self.assertTrue(oracle_diff.abnormal(rc), rc)
        for rc in (0, 1, 2, 10, 20, 42):
            self.assertFalse(oracle_diff.abnormal(rc), rc)


class Generator(unittest.TestCase):
    def test_same_seed_same_bytes(self):
        self.assertEqual(gen_configs.generate_case(1234), gen_configs.generate_case(1234))

    def test_different_seeds_differ(self):
        self.assertNotEqual(gen_configs.generate_case(1)[0], gen_configs.generate_case(2)[0])

    def test_resources_mode_has_n_valid_resources(self):
        files, desc = gen_configs.generate_case(7, resources=25, valid=True)
        self.assertEqual(desc, "valid")
        self.assertEqual(files["drbd.conf"].count("\nresource "), 25)

    def test_invalid_cases_name_their_error(self):
        descs = [gen_configs.generate_case(s)[1] for s in range(1, 60)]
        self.assertTrue(any(d.startswith("invalid: ") for d in descs))
        self.assertTrue(any(d == "valid" for d in descs))

    def test_first_on_host_is_alpha(self):
        for s in range(1, 30):
            files, _ = gen_configs.generate_case(s, valid=True)
            with tempfile.TemporaryDirectory() as d:
                gen_configs.write_case(d, files)
                host, _ = confhosts.local_host(confhosts.tokens(os.path.join(d, "drbd.conf")))
                self.assertEqual(host, "alpha", "seed %d" % s)


class LocalHost(unittest.TestCase):
    def scan(self, text, extra=None):
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "drbd.conf"), "w") as f:
                f.write(text)
            for name, body in (extra or {}).items():
                os.makedirs(os.path.dirname(os.path.join(d, name)), exist_ok=True)
                with open(os.path.join(d, name), "w") as f:
                    f.write(body)
            return confhosts.local_host(confhosts.tokens(os.path.join(d, "drbd.conf")))

    def test_first_on_host_and_all_its_addresses(self):
        host, addrs = self.scan(
            "skip { on ghost { address 1.1.1.1:1; } }\n"
            "resource r { proxy { } on a { address 10.0.0.1:7; } on b { address ipv6 [fd00::2]:7; }\n"
            "connection { path { host a address 10.9.0.1:7; host b address 10.9.0.2:7; } } }\n")
        self.assertEqual(host, "a")
        self.assertEqual(addrs, ["10.0.0.1", "10.9.0.1"])

    def test_follows_includes_and_ignores_comments(self):
        host, addrs = self.scan('# on nothere {\ninclude "d/*.res";\n',
                                {"d/x.res": "resource x { on \"n1\" { address ipv4 10.1.0.1:7789; } }"})
        self.assertEqual((host, addrs), ("n1", ["10.1.0.1"]))

    def test_floating_only(self):
        self.assertEqual(self.scan("resource r { floating 10.5.1.1:7040 { } floating 10.5.1.2:7040 { } }"),
                         ("floatnode", ["10.5.1.1"]))

    def test_broken_input_does_not_raise(self):
        self.scan("resource { on { address ; } \" unterminated")


class PeerClassification(unittest.TestCase):
    def classify(self, body, flavour="v9"):
        with tempfile.NamedTemporaryFile("w", suffix=".test", delete=False) as f:
            f.write(body)
        try:
            return run_peer_tests.classify(f.name, flavour)
        finally:
            os.unlink(f.name)

    def test_drbdadm_only_runs_even_when_output_names_drbdmeta(self):
        self.assertIsNone(self.classify(
            "$ drbdadm -d -c ./man.res create-md --force r0/0 2>/dev/null; echo $?\n"
            "drbdmeta 1 v09 /dev/sda7 internal create-md 1 --force\n0\n"))

    def test_env_prefixes_are_skipped_over(self):
        self.assertIsNone(self.classify(
            "$ FAKE_DRBDSETUP_SHOW=<(echo) drbdadm -c x.res adjust -d r0\n"
            "$ env -u __DRBD_NODE__ drbdadm -c ./f.res -d new-peer r0 ; echo $?\n"))

    def test_direct_drbdmeta_runs_now(self):
        # drbdmeta exists (issue #3): upstream's drbdmeta tests run.
        self.assertIsNone(self.classify("$ x=$(drbdmeta --force - v09 $img internal dump-superblock)\n"))

    def test_drbdsetup_instrumented_waits_for_issue_4(self):
        why = self.classify("$ cat e.msgs | drbdsetup_instrumented events2; echo $?\n")
        self.assertIn("#4", why)

    def test_v84_drbdadm_runs(self):
        # Our drbdadm plans for an 8.4 module itself (drbdadm/plan84).
        self.assertIsNone(self.classify("$ drbdadm -c ./man.res up -d r0\n", "v84"))


class Proxy(unittest.TestCase):
    """simd_harness.TcpProxy: cut holds bytes back, heal delivers them in
    order, reset resets."""

    def setUp(self):
        import socket
        import threading
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(4)

        def echo():
            c, _ = self.srv.accept()
            try:
                while data := c.recv(4096):
                    c.sendall(data)
            except OSError:  # reset by test_reset_resets
                pass
            c.close()
        threading.Thread(target=echo, daemon=True).start()
        self.proxy = simd_harness.TcpProxy(self.srv.getsockname()[1])
        self.cli = socket.create_connection(("127.0.0.1", self.proxy.port), timeout=5)

    def tearDown(self):
        self.cli.close()
        self.proxy.close()
        self.srv.close()

    def test_cut_holds_back_and_heal_delivers_in_order(self):
        import socket
        self.cli.sendall(b"a")
        self.assertEqual(self.cli.recv(10), b"a")
        self.proxy.cut()
        self.cli.sendall(b"bc")
        self.cli.settimeout(0.5)
        with self.assertRaises(socket.timeout):
            self.cli.recv(10)
        self.proxy.heal()
        self.cli.settimeout(5)
        got = b""
        while len(got) < 2:
            got += self.cli.recv(10)
        self.assertEqual(got, b"bc")

    def test_reset_resets(self):
        self.cli.sendall(b"a")
        self.assertEqual(self.cli.recv(10), b"a")
        self.proxy.reset()
        with self.assertRaises(ConnectionResetError):
            while self.cli.recv(10):
                pass


class SoakModel(unittest.TestCase):
    """simd_soak's model of the writes: the last acknowledged write of a
    sector must be there; a write never acknowledged may or may not be."""

    def epoch(self, number, acked, pending=()):
        e = simd_soak.Epoch(number, None, "")
        e.acked, e.pending = list(acked), list(pending)
        return e

    def test_acked_writes_in_order_and_unacked_either_way(self):
        size = 16 * 512
        epochs = [self.epoch(0, [(0, 0, 0, 2048), (1, 0, 1024, 1024), (2, 1, 0, 512)],
                             [(3, 0, 4096, 1024)]),
                  self.epoch(1, [(0, 0, 6144, 512)])]
        model, alts = simd_soak.build_model(7, epochs, size)
        self.assertEqual(simd_soak.mismatches(bytes(model), model, alts), [])
        self.assertEqual(sorted(alts), [8, 9])
        self.assertEqual(simd_soak.tag_of(model[1024:1536]), "epoch 0 write 1 (sector 2)")
        # The unacknowledged write may have landed.
        landed = bytearray(model)
        landed[4096:5120] = simd_soak.payload(7, 0, 3, 4096, 1024)
        self.assertEqual(simd_soak.mismatches(bytes(landed), model, alts), [])
        # An older write where the newer acknowledged one belongs is caught.
        stale = bytearray(model)
        stale[1024:1536] = simd_soak.payload(7, 0, 0, 0, 2048)[1024:1536]
        self.assertEqual(simd_soak.mismatches(bytes(stale), model, alts),
                         [(1024, "epoch 0 write 1 (sector 2)", "epoch 0 write 0 (sector 2)")])
        # Volume 1 has only its own write, tagged with its volume.
        model1, _ = simd_soak.build_model(7, epochs, size, 1)
        self.assertEqual(simd_soak.tag_of(model1[:512]), "volume 1 epoch 0 write 2 (sector 0)")
        self.assertEqual(model1[512:], bytes(size - 512))


if __name__ == "__main__":
    unittest.main(verbosity=1)
