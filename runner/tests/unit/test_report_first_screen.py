"""report.html's first screen, as headless Chromium lays it out at 1280 x 800:
the verdict, the actions and one line per pillar are within it; the
details are folded. Positions are read from the rendered page (a script
added to a copy writes each element's box into the DOM Chromium dumps),
not from the HTML text."""
import html
import json
import re
import shutil
import tempfile
import unittest
from pathlib import Path

from rdmagate.kabi import record as kabi_record
from rdmagate.outputs.audience import AudienceVerdict
from rdmagate.report import browser, page
from tests.support import gate_record

SCREEN = (1280, 800)
MEASURE = """<script>
const box = e => { const r = e.getBoundingClientRect(); return [r.top, r.bottom, r.right]; };
document.body.setAttribute("data-layout", JSON.stringify({
  viewport: [window.innerWidth, window.innerHeight],
  verdict: box(document.getElementById("verdict")),
  actions: box(document.querySelector("ol.actions")),
  items: [...document.querySelectorAll("ol.actions li")].map(box),
  pillars: [...document.querySelectorAll("#pillars li")].map(box),
  open: [...document.querySelectorAll("details")].filter(d => d.open).length,
  folded: document.querySelectorAll("details.section").length}));
</script></body>"""


class FirstScreen(unittest.TestCase):
    def setUp(self):
        if not shutil.which("chromium"):
            self.skipTest("chromium is not installed: run ci/setup")
        self.tmp = Path(tempfile.mkdtemp(prefix="rdmagate-first-screen-"))
        self.addCleanup(shutil.rmtree, self.tmp)

    def layout(self, upgrade) -> tuple[dict, Path]:
        written = page.write(upgrade, self.tmp / "report.html")
        png = self.tmp / "report.png"
        self.assertEqual(browser.screenshot(written, png, size="%d,%d" % SCREEN), [])
        self.assertEqual(png.read_bytes()[:8], b"\x89PNG\r\n\x1a\n")
        measured = self.tmp / "measured.html"
        measured.write_text(written.read_text().replace("</body>", MEASURE))
        rendered = browser.dom(measured, size="%d,%d" % SCREEN)
        found = re.search(r'data-layout="([^"]*)"', rendered)
        self.assertIsNotNone(found, "the page was not measured")
        return json.loads(html.unescape(found.group(1))), png

    def test_verdict_actions_and_pillars_fit_the_first_screen(self):
        upgrade = gate_record(moved=11)
        upgrade.kabi = kabi_record.Section(
            AudienceVerdict("BREAKS", {"breaking": 61}),
            kabi_record.Summary(787, {"CRC changed": 669, "export removed": 61}),
            [], [], False, ["5.10.0-32-amd64", "6.12.117+deb13-amd64"], [],
            [f"ib_gone_{i}" for i in range(61)])
        from rdmagate.upgrade import verdict
        upgrade = verdict.decided(upgrade)
        layout, png = self.layout(upgrade)
        width, height = layout["viewport"]
        self.assertEqual(width, SCREEN[0])
        self.assertLessEqual(height, SCREEN[1])
        self.assertGreaterEqual(len(layout["items"]), 5)   # the ranked actions
        self.assertEqual(len(layout["pillars"]), 6)        # one line a pillar
        for name, (top, bottom, right) in [("verdict", layout["verdict"]),
                                           ("actions", layout["actions"]),
                                           *(("pillar", p) for p in layout["pillars"])]:
            self.assertGreaterEqual(top, 0, name)
            self.assertLessEqual(bottom, height, f"{name} below the first screen")
            self.assertLessEqual(right, width, f"{name} wider than the screen")
        for top, bottom, _ in layout["pillars"]:
            self.assertLess(bottom - top, 30, "a pillar takes more than one line")
        self.assertGreaterEqual(layout["folded"], 8)
        self.assertEqual(layout["open"], 0)                # the details are folded
        self.assertGreater(png.stat().st_size, 10_000)


if __name__ == "__main__":
    unittest.main()
