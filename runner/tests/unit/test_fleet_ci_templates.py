"""The nightly CI templates in ci/templates/: each parses (YAML; the
Jenkinsfile's brackets and quotes balance), is scheduled, keeps its
artifacts and JUnit report, and every rdmagate command, action and option
it runs exists in `rdmagate ... --help`."""
import functools
import re
import shlex
import unittest

import yaml

from tests.support import REPO_ROOT, rdmagate

TEMPLATES = REPO_ROOT / "ci" / "templates"
COMMAND = re.compile(r"\./rdmagate ([^\n'|;&]*)")


@functools.lru_cache(maxsize=None)
def _help(*words: str) -> str:
    done = rdmagate(*words, "--help")
    assert done.returncode == 0, (words, done.stderr)
    return done.stdout


def _balanced(text: str) -> bool:
    """Brackets balance outside quotes and comments (a Groovy file's shape)."""
    pairs, stack, quote = {")": "(", "]": "[", "}": "{"}, [], None
    for line in text.splitlines():
        i = 0
        while i < len(line):
            c = line[i]
            if quote:
                if c == "\\":
                    i += 1
                elif c == quote:
                    quote = None
            elif line.startswith("//", i):
                break
            elif c in "'\"":
                quote = c
            elif c in "([{":
                stack.append(c)
            elif c in ")]}":
                if not stack or stack.pop() != pairs[c]:
                    return False
            i += 1
        if quote:
            return False
    return not stack


class Templates(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.texts = {p.name: p.read_text() for p in sorted(TEMPLATES.iterdir())}
        cls.top = _help()

    def test_all_three_are_there(self):
        self.assertEqual(set(self.texts), {"gitlab-ci.yml", "Jenkinsfile", "github-actions.yml"})

    def test_every_command_and_option_exists(self):
        checked = 0
        for name, text in self.texts.items():
            for match in COMMAND.finditer(text):
                words = shlex.split(match.group(1).replace("\\\n", " "))
                command = words[0]
                self.assertRegex(self.top, rf"\n    {command}\s", f"{name}: rdmagate {command}")
                path = [command]
                if "ACTION" in _help(command).split("\n", 1)[0]:
                    path.append(words[1])
                    self.assertIn(f"    {words[1]} ", _help(command), f"{name}: {path}")
                usage = _help(*path)
                for option in (w.split("=")[0] for w in words if w.startswith("--")):
                    self.assertIn(option, usage, f"{name}: rdmagate {' '.join(path)} {option}")
                checked += 1
        self.assertGreaterEqual(checked, 9)

    def test_each_runs_the_suites_then_keeps_the_history(self):
        for name, text in self.texts.items():
            self.assertRegex(text, r"\./rdmagate (fleet run|check)", name)
            self.assertIn("./rdmagate history add", text, name)

    def test_gitlab_is_scheduled_keeps_artifacts_and_declares_junit(self):
        data = yaml.safe_load(self.texts["gitlab-ci.yml"])
        job = data["nightly"]
        self.assertIn({"if": '$CI_PIPELINE_SOURCE == "schedule"'}, job["rules"])
        self.assertEqual(job["artifacts"]["when"], "always")
        self.assertTrue(job["artifacts"]["reports"]["junit"].endswith("junit.xml"))
        self.assertIn(job["stage"], data["stages"])
        self.assertTrue(all(isinstance(line, str) for line in job["script"]))

    def test_jenkins_has_cron_and_junit_with_long_output(self):
        text = self.texts["Jenkinsfile"]
        self.assertTrue(_balanced(text), "brackets or quotes do not balance")
        self.assertRegex(text, r"triggers \{ cron\('[^']+'\) \}")
        self.assertRegex(text, r"always \{\s+junit testResults: [^\n]*keepLongStdio: true")
        self.assertRegex(text, r"sh\(returnStatus: true")

    def test_github_is_scheduled_on_a_self_hosted_runner(self):
        data = yaml.safe_load(self.texts["github-actions.yml"])
        on = data.get("on", data.get(True))    # YAML 1.1 reads a bare on as true
        self.assertTrue(on["schedule"][0]["cron"])
        job = data["jobs"]["nightly"]
        self.assertIn("self-hosted", job["runs-on"])
        upload = [s for s in job["steps"] if s.get("uses", "").startswith("actions/upload")]
        self.assertEqual(upload[0]["if"], "always()")

    def test_the_syntax_check_can_fail(self):
        self.assertFalse(_balanced("pipeline { stage('x') { steps { sh 'a' } }"))
        self.assertFalse(_balanced("sh 'unterminated"))
        with self.assertRaises(yaml.YAMLError):
            yaml.safe_load("nightly:\n  script: [a\n")


if __name__ == "__main__":
    unittest.main()
