"""The layout holds: no import cycles, no imports hidden in functions, one package per
feature that the wiring finds, every feature's pieces in its own folder, a feature reaching
another only through its face (api.py), a core that loads no feature, the shell rendering what
features declare, and adapter capabilities as protocols."""

from __future__ import annotations

import ast
import dataclasses
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.adapters.base import MaybeDelivered, RefusesEvents, ReportsConnection, RequestsRosters
from bot.core.config import Config, load_config
from bot.core.deps import Provide, Roles, build_services
from bot.core.feature import ADMIN, OPERATOR, ROLES, Feature
from bot.core.pipeline import Batch, Hook
from bot.core.settings import Settings
from bot.web.shell import Slots, web_part
from bot.wiring import FEATURES

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "tagging", "tiers")
# The modules whose imports may stay inside functions: the command line's (bot.cli, bot.ops: each
# command loads only what it uses, so `qunguan import` starts without the web console, and
# `import --dry-run` or `qunguan db` without the features; wechaty, an optional extra, only
# `qunguan run`) and the import's, whose store side a dry run does not load. The import graph
# counts those imports all the same: they hide no cycle.
LAZY_MODULES = {"bot.cli", "bot.ops", "bot.importer.run"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def _imported(node: ast.Import | ast.ImportFrom, here: str) -> Iterator[str]:
    """Our own modules an import statement loads (the module, and a submodule imported by name)."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        base = node.module or ""
        if node.level:
            parent = here.split(".")[: -node.level]
            base = ".".join([*parent, base] if base else parent)
        names = [base] + [f"{base}.{a.name}" for a in node.names]
    for name in names:
        if name.split(".")[0] in PACKAGES and name in MODULES:
            yield name


def _top_level_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """Imports that run when the module is imported (module body, including if/try blocks)."""
    stack: list[ast.stmt] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If | ast.Try):
            stack += [*node.body, *node.orelse, *getattr(node, "handlers", []), *getattr(node, "finalbody", [])]
        elif isinstance(node, ast.ExceptHandler):
            stack += node.body


def _all_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    return (node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom))


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imports = _all_imports(tree) if name in LAZY_MODULES else _top_level_imports(tree)
        graph[name] = {m for node in imports for m in _imported(node, name)} - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles() -> None:
    graph = import_graph()
    assert len(graph) > 50  # the walk found the packages
    assert cycles(graph) == []


def test_no_imports_inside_functions() -> None:
    hidden = []
    for name, path in MODULES.items():
        if name in LAZY_MODULES:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    hidden += [(name, m) for m in _imported(node, name)]
    assert hidden == []


def _loaded_by(argv: list[str], tmp_path: Path) -> set[str]:
    """The modules a `qunguan` command loads, run in a process of its own."""
    code = ("import sys\nfrom bot.cli import main\ncode = main(sys.argv[1:])\n"
            "print('--modules--', *sorted(sys.modules))\nsys.exit(code)")
    res = subprocess.run([sys.executable, "-c", code, *argv], cwd=tmp_path, capture_output=True, text=True,
                         timeout=120, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    return set(res.stdout.rpartition("--modules--")[2].split())


def test_a_command_loads_only_what_it_uses(tmp_path: Path) -> None:
    """Start-up time and memory: `qunguan import` stores without the demo, the web console (its
    pages, aiohttp, jinja2) or python-jieba (jieba-rs cuts, where its wheel installed);
    `--dry-run` and the db commands load no feature, no web console and no tokenizer (and a dry
    run no store)."""
    from tagging.matcher import HAVE_RJIEBA

    export = next((ROOT / "tests" / "fixtures" / "generations" / "2025").rglob("*.csv"))
    stored = _loaded_by(["import", str(export), "--db", str(tmp_path / "q.db")], tmp_path)
    assert "bot.features.tags.hook" in stored  # the check can see a module
    assert not {m for m in stored if m.startswith(("bot.demo", "bot.web", "aiohttp", "jinja2"))}
    assert not {m for m in stored if m.startswith("bot.features.") and m.endswith(".web")}
    assert HAVE_RJIEBA <= ("jieba" not in stored)
    read = _loaded_by(["import", str(export), "--dry-run"], tmp_path)
    assert "bot.importer.memotrace_csv" in read
    assert not {m for m in read if m.startswith(("bot.features", "bot.web", "bot.store", "sqlalchemy",
                                                   "jieba", "rjieba"))}
    assert not {m for m in _loaded_by(["db", "current", "--db", str(tmp_path / "q.db")], tmp_path)
                if m.startswith(("bot.wiring", "bot.web", "jieba", "rjieba"))}  # features' models only


def test_pure_packages_and_the_web_do_not_reach_into_the_wiring() -> None:
    graph = import_graph()
    for name, deps in graph.items():
        if name.startswith(("tagging", "tiers")):
            assert not {d for d in deps if d.startswith("bot")}, name
        if name.startswith(("bot.core", "bot.web", "bot.features", "bot.store", "bot.adapters")):
            assert "bot.wiring" not in deps, name


# ---- a public face per feature; the core names no feature ----------------------------------------

FACE = "api"  # bot/features/<f>/api.py: what a feature offers to the others


def feature_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if parts[:2] == ["bot", "features"] and len(parts) > 2 else None


def face_violations(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    """(importer, imported) where a feature's module imports another feature's module other than
    its face (importing the package itself, `from bot.features.x import api`, is allowed)."""
    found = []
    for name, deps in sorted(graph.items()):
        mine = feature_of(name)
        if mine is None:
            continue
        for dep in sorted(deps):
            theirs = feature_of(dep)
            if theirs not in (None, mine) and dep not in (f"bot.features.{theirs}", f"bot.features.{theirs}.{FACE}"):
                found.append((name, dep))
    return found


def reached(graph: dict[str, set[str]], start: str) -> set[str]:
    """Every module importing `start` loads, directly or through others."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        for dep in graph.get(todo.pop(), ()):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    return seen


def core_violations(graph: dict[str, set[str]]) -> list[tuple[str, list[str]]]:
    """Core modules that load a feature module, directly or through another module."""
    return [(name, sorted(m for m in reached(graph, name) if m.startswith("bot.features")))
            for name in sorted(graph) if name.startswith("bot.core") and
            any(m.startswith("bot.features") for m in reached(graph, name))]


def test_the_face_and_core_checks_find_a_violation() -> None:
    graph = {"bot.features.a.service": {"bot.features.b.models", "bot.features.a.models", "bot.core.x"},
             "bot.features.a.web": {"bot.features.b.api", "bot.features.b"},
             "bot.core.x": {"bot.store.db"}, "bot.core.y": {"bot.deps"}, "bot.deps": {"bot.features.b.api"}}
    assert face_violations(graph) == [("bot.features.a.service", "bot.features.b.models")]
    assert core_violations(graph) == [("bot.core.y", ["bot.features.b.api"])]


def test_a_feature_imports_another_only_through_its_face() -> None:
    graph = import_graph()
    assert sum(1 for name, deps in graph.items() if feature_of(name) and
               any(feature_of(d) not in (None, feature_of(name)) for d in deps)) > 20  # the walk sees them
    assert face_violations(graph) == []


def test_a_features_package_init_imports_nothing() -> None:
    """`from bot.features.x import api` loads the package first: it must not pull the internals in."""
    for folder in sorted((ROOT / "bot" / "features").glob("*/")):
        if (folder / "__init__.py").is_file():
            tree = ast.parse((folder / "__init__.py").read_text(encoding="utf-8"))
            assert not [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)], folder.name


def test_the_core_imports_no_feature() -> None:
    graph = import_graph()
    assert any(n.startswith("bot.core") for n in graph)
    assert core_violations(graph) == []


class _Clock:
    pass


class _Agenda:
    def __init__(self, clock: _Clock) -> None:
        self.clock = clock


def test_services_are_built_from_what_features_provide() -> None:
    provided = [p.kind for f in FEATURES for p in f.services]
    assert len(provided) == len(set(provided)) and Roles in provided
    no_file = load_config(None, (key for f in FEATURES for key in f.config))  # every key's default
    built = build_services((p for f in FEATURES for p in f.services), no_file)
    assert set(built) == set(provided)
    assert all(isinstance(service, kind) for kind, service in built.items())
    # A service is made once, after those it needs, whatever the order they are declared in.
    made = build_services([Provide(_Agenda, lambda config, need: _Agenda(need(_Clock))),
                           Provide(_Clock, lambda config, need: _Clock())], Config())
    agenda = made[_Agenda]
    assert isinstance(agenda, _Agenda) and agenda.clock is made[_Clock]
    with pytest.raises(LookupError, match="no feature provides _Clock"):
        build_services([Provide(_Agenda, lambda config, need: _Agenda(need(_Clock)))], Config())
    with pytest.raises(LookupError, match="made from each other: _Agenda → _Clock → _Agenda"):
        build_services([Provide(_Agenda, lambda config, need: _Agenda(need(_Clock))),
                        Provide(_Clock, lambda config, need: need(_Agenda).clock)], Config())
    with pytest.raises(LookupError, match="two features provide _Clock"):
        build_services([Provide(_Clock, lambda config, need: _Clock())] * 2, Config())


@pytest.mark.parametrize("feature", FEATURES, ids=lambda f: f.name)
def test_each_feature_lives_in_its_own_package(feature: Feature) -> None:
    folder = ROOT / "bot" / "features" / feature.name
    assert (folder / "feature.py").is_file()
    for cmd in feature.commands:
        assert cmd.handler.__module__.startswith(f"bot.features.{feature.name}."), cmd.name
    for job in feature.jobs:
        assert job.work.__module__.startswith(f"bot.features.{feature.name}."), job.id


def test_every_feature_package_is_wired() -> None:
    on_disk = {p.parent.name for p in (ROOT / "bot" / "features").glob("*/feature.py")}
    assert on_disk == {f.name for f in FEATURES}


# ---- the shell renders what features declare ---------------------------------------------------

SHELL_TEMPLATES = ROOT / "bot" / "web" / "templates"


def test_the_shell_templates_name_no_feature_page_or_template() -> None:
    """base.html, the member page and the others loop over the declared slots: no feature's
    path or template is written in them."""
    paths = {e.path for f in FEATURES for e in web_part(f).nav}
    folders = {f"{f.name}/" for f in FEATURES}
    for template in sorted(SHELL_TEMPLATES.glob("*.html")):
        text = template.read_text(encoding="utf-8")
        assert not {p for p in paths if f'href="{p}"' in text or f"'{p}'" in text or f'"{p}"' in text}, template.name
        assert not {d for d in folders if f'"{d}' in text}, template.name


@pytest.mark.parametrize("feature", FEATURES, ids=lambda f: f.name)
def test_each_features_slots_are_its_own(feature: Feature) -> None:
    """A feature's console part is its own web.py's `WEB`, named by the feature (loaded only by the
    console), and every feature with a web.py names it."""
    has_web = (ROOT / "bot" / "features" / feature.name / "web.py").is_file()
    assert feature.web == (f"bot.features.{feature.name}.web" if has_web else None)
    part = web_part(feature)
    assert len({e.key for e in part.nav}) == len(part.nav)
    for section in part.member:
        assert section.template.startswith(f"{feature.name}/"), section.template
        assert part.templates is not None and (part.templates / section.template).is_file(), section.template
        assert section.place in ("facts", "sections")
    for entry in part.nav:
        assert entry.who in ROLES
    assert has_web <= (part.routes is not None or part.member != ())  # the part was found


def test_every_nav_entry_is_a_page_and_every_page_key_is_in_the_nav() -> None:
    slots = Slots.of(FEATURES)
    keys = [e.key for e in slots.nav]
    assert len(keys) == len(set(keys)) and len({e.order for e in slots.nav}) == len(keys)
    # Every `nav="..."` a page passes names an entry, so the bar always marks the page.
    passed = set()
    for path in [*(ROOT / "bot").rglob("web.py"), *(ROOT / "bot" / "web" / "pages").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.keyword) and node.arg == "nav" and isinstance(node.value, ast.Constant):
                passed.add(node.value.value)
    assert passed and passed <= set(keys)
    # An operator sees the pages meant for operators; a manager sees every page.
    assert [e.title for e in slots.nav if e.visible_to(OPERATOR)] == ["概览", "趋势", "成员", "跟进"]
    assert [e for e in slots.nav if e.visible_to(ADMIN)] == list(slots.nav)


# ---- adapter capabilities are protocols --------------------------------------------------------

CAPABILITIES = {"refused", "request_rosters", "connected", "maybe_delivered", "paced", "self_id"}


def test_adapter_capabilities_are_found_with_isinstance_not_getattr() -> None:
    probes = []
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in ("getattr", "hasattr") and len(node.args) >= 2):
                what = node.args[1]
                if (isinstance(what, ast.Constant) and what.value in CAPABILITIES) or "adapter" in ast.unparse(
                        node.args[0]):
                    probes.append((name, ast.unparse(node)))
    assert probes == []


def test_the_adapters_have_the_capabilities_they_are_used_for() -> None:
    from bot.adapters.console import ConsoleAdapter
    from bot.adapters.memory import MemoryAdapter
    from bot.adapters.wechaty import WechatyAdapter, WechatySendError, WechatySendUncertain

    assert issubclass(ConsoleAdapter, RefusesEvents) and not issubclass(MemoryAdapter, RefusesEvents)
    assert issubclass(WechatyAdapter, RequestsRosters) and not issubclass(ConsoleAdapter, RequestsRosters)
    assert isinstance(WechatyAdapter.connected, property)
    assert isinstance(WechatySendUncertain("x"), MaybeDelivered)
    assert not isinstance(WechatySendError("x"), MaybeDelivered)
    assert not isinstance(MemoryAdapter(), ReportsConnection)


# ---- hooks: declared order, data owned by the producing feature -------------------------------

def _hook_classes() -> list[type[Hook]]:
    found, todo = [], list(Hook.__subclasses__())
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo += cls.__subclasses__()
    return [c for c in found if c.__module__.startswith("bot.")]


def _slot_reads(path: Path) -> Iterator[str]:
    """The modules whose types `path` reads or fills with `batch.slot(T)`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = module_name(path)
    origin = {alias.asname or alias.name: node.module for node in ast.walk(tree)
              if isinstance(node, ast.ImportFrom) and node.module for alias in node.names}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "slot"
                and node.args and isinstance(node.args[0], ast.Name)):
            yield origin.get(node.args[0].id, here)


def test_each_features_hooks_are_named_after_it_and_name_only_hooks_that_exist() -> None:
    classes = _hook_classes()
    names = {c.name for c in classes}
    assert {"points", "tags", "guard", "commands"} <= names
    for cls in classes:
        if cls.__module__.startswith("bot.features."):
            assert cls.name == cls.__module__.split(".")[2], cls
        assert set(cls.after) <= names, cls


def test_a_hook_that_reads_another_features_batch_slot_runs_after_it() -> None:
    """Data one hook hands the hooks after it is a `batch.slot(T)` whose type T lives in the
    producing feature: a reader in another feature must name it in its `after` (directly or
    through hooks it names), or the order would depend on the registry's."""
    after = {c.name: set(c.after) for c in _hook_classes()}

    def before(name: str) -> set[str]:
        seen: set[str] = set()
        todo = list(after.get(name, ()))
        while todo:
            n = todo.pop()
            if n not in seen:
                seen.add(n)
                todo += after.get(n, ())
        return seen

    reads = []
    for path in sorted((ROOT / "bot" / "features").glob("*/**/*.py")):
        reader = module_name(path).split(".")[2]
        for module in _slot_reads(path):
            owner = module.split(".")[2] if module.startswith("bot.features.") else "core"
            if owner != reader:
                reads.append((reader, owner))
                assert owner in before(reader), f"{reader} reads {module}'s slot without running after {owner}"
    assert ("tags", "points") in reads


def test_the_batch_keeps_no_features_data() -> None:
    """Batch's fields are the pipeline's own (buffers, replies, the slots): what a feature hands
    to others is a slot of its own type, not a field here."""
    feature_words = {f.name for f in FEATURES} | {"speaking", "checkin", "tag"}
    fields = {f.name for f in dataclasses.fields(Batch)}
    assert not {w for w in fields if any(word in w for word in feature_words)}, fields


# ---- settings: each feature declares its own ------------------------------------------------

def _declared() -> dict[str, str]:
    """Every feature's QUNGUAN_* setting and config key → the feature."""
    out = {}
    for f in FEATURES:
        for name in (f.settings.model_fields if f.settings else ()):
            out[name] = f.name
        for key in f.config:
            out[key.name] = f.name
    return out


def test_the_core_lists_no_features_settings_or_config_keys() -> None:
    """No global list of every feature's keys: bot/core's settings and config reader name none."""
    declared = _declared()
    assert {"followup_time", "checkin_tasks", "tag_rules", "levels"} <= set(declared)
    for module in ("bot/core/settings.py", "bot/core/config.py"):
        words = set(re.findall(r"\w+", (ROOT / module).read_text(encoding="utf-8")))
        named = {n for n in declared if n in words and "_" in n}  # one-word keys (levels, rfm) are common words
        assert named == set(), (module, named)
    assert not {n for n in declared if n in Settings.model_fields}


def test_the_readme_names_each_setting_with_its_feature() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name, feature in _declared().items():
        if f"`QUNGUAN_{name.upper()}`" in readme or name in readme:
            continue
        raise AssertionError(f"README does not mention {name} ({feature})")
    for name, feature in _declared().items():
        if f"QUNGUAN_{name.upper()}" in readme:
            assert f"| `QUNGUAN_{name.upper()}` | {feature} |" in readme, name
