"""The README fits its purpose: under 250 lines, the two commands on its
first screen, a section for every command `rdmagate --help` lists, and
every path it names exists (links, and the repository paths in code)."""
import re
import unittest

from rdmagate import cli
from tests.support import REPO_ROOT

README = REPO_ROOT / "README.md"
COMMANDS = ("bash ci/setup && ./rdmagate upgrade --from debian-11 --to debian-13",
            "bash ci/setup && bash ci/test")
TOP = ("runner/", "harness/", "suites/", "stacks/", "hw-profiles/", "baselines/", "results/",
       "ci/", "bench/", "docs/")


def commands() -> list[str]:
    """The subcommands `rdmagate --help` lists, from the parser itself."""
    parser = cli.build_parser()
    (sub,) = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"]
    return [choice.dest for choice in sub._choices_actions]


def named_paths(text: str) -> set[str]:
    """Relative link targets, and code spans that are paths of the repository."""
    links = {t.split("#", 1)[0] for t in re.findall(r"\]\(([^)]+)\)", text)
             if not t.startswith(("http:", "https:", "#"))}
    spans = {s for s in re.findall(r"`([^`\s]+)`", text)
             if s.startswith(TOP) and not re.search(r"[<>*{}]", s)}
    return {p for p in links | spans if p}


class Readme(unittest.TestCase):
    def setUp(self):
        self.text = README.read_text()
        self.lines = self.text.splitlines()

    def test_short_with_the_two_commands_on_the_first_screen(self):
        self.assertLess(len(self.lines), 250)
        first = "\n".join(self.lines[:40])
        for command in COMMANDS:
            self.assertIn(command, first)
        self.assertIn("What to do:", "\n".join(self.lines[:60]))   # a real verdict, acted on

    def test_every_command_has_its_section(self):
        listed = commands()
        self.assertIn("upgrade", listed)
        headings = set(re.findall(r"^### `rdmagate (\w+)`$", self.text, re.M))
        self.assertEqual(set(listed) - headings, set(), "commands without a README section")
        self.assertEqual(headings - set(listed), set(), "sections of no command")

    def test_every_path_it_names_exists(self):
        paths = named_paths(self.text)
        self.assertIn("docs/upgrade.md", paths)
        missing = sorted(p for p in paths if not (REPO_ROOT / p).exists())
        self.assertEqual(missing, [])

    def test_every_link_of_the_docs_resolves(self):
        for doc in sorted((REPO_ROOT / "docs").glob("*.md")):
            for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", doc.read_text()):
                if target.startswith(("http:", "https:")):
                    continue
                with self.subTest(doc=doc.name, target=target):
                    self.assertTrue((doc.parent / target).exists())


if __name__ == "__main__":
    unittest.main()
