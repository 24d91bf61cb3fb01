"""Every action id and callback id is one constant in handlers/ids.py, drawn on a block or modal
and routed to a listener through that same constant. Read from the source (the AST of every module
under handlers/), so a literal typed anywhere else fails here before it drifts from its twin."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import handlers
from handlers import ids

HANDLERS = Path(handlers.__file__).parent
ID_KEYS = {"action_id", "callback_id"}
BOLT_ROUTERS = {"action", "view", "block_action", "options", "shortcut", "view_submission", "view_closed"}


def modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(HANDLERS.rglob("*.py")):
        if path != HANDLERS / "ids.py":
            yield str(path.relative_to(HANDLERS.parent)), ast.parse(path.read_text(), str(path))


def _typed(node: ast.expr | None) -> bool:
    """A string written out, whole or in part (an f-string, a concatenation)."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    return isinstance(node, ast.BinOp) and (_typed(node.left) or _typed(node.right))


def _is_id(node: ast.expr) -> bool:
    return isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "ids"


def _router(node: ast.Call) -> str | None:
    """``app.action`` / ``app.view`` …: the Bolt method that routes by id, if this call is one."""
    func = node.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "app":
        return func.attr if func.attr in BOLT_ROUTERS else None
    return None


def _docstrings(tree: ast.Module) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def id_parameters(trees: list[ast.Module]) -> dict[str, int]:
    """Functions that take an id (a parameter named action_id or callback_id) and its position."""
    found = {}
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                for n, arg in enumerate(node.args.args):
                    if arg.arg in ID_KEYS:
                        found[node.name] = n
    return found


def typed_ids(tree: ast.Module, takes_id: dict[str, int]) -> list[str]:
    """Where ``tree`` writes an id out instead of naming its constant: ``"action_id": "…"``,
    ``callback_id="…"``, ``app.action("…")`` (or a pattern), ``button("…", …)``, or any string
    equal to an id's value outside a docstring."""
    values = set(ids.ACTIONS) | set(ids.CALLBACKS)
    docstrings = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value in ID_KEYS and _typed(value):
                    found.append(f"line {value.lineno}: {key.value} written out")
        elif isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg in ID_KEYS and _typed(kw.value):
                    found.append(f"line {kw.value.lineno}: {kw.arg}= written out")
            router = _router(node)
            if router is not None and node.args and not _is_id(node.args[0]):
                found.append(f"line {node.lineno}: app.{router}() not given an ids constant")
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            at = takes_id.get(name or "")
            if at is not None and len(node.args) > at and _typed(node.args[at]):
                found.append(f"line {node.lineno}: {name}() given an id written out")
        elif isinstance(node, ast.Constant) and node.value in values and id(node) not in docstrings:
            found.append(f"line {node.lineno}: {node.value!r} is an id's value")
    return sorted(set(found))


def constant_uses() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Per ids constant: the Bolt routers it is given to, and the modules that use it otherwise (draw it)."""
    routed: dict[str, set[str]] = {}
    drawn: dict[str, set[str]] = {}
    for name, tree in modules():
        in_router = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _router(node) and node.args and _is_id(node.args[0]):
                arg = node.args[0]
                assert isinstance(arg, ast.Attribute)
                routed.setdefault(arg.attr, set()).add(str(_router(node)))
                in_router.add(id(arg))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and _is_id(node) and id(node) not in in_router:
                drawn.setdefault(node.attr, set()).add(name)
    return routed, drawn


def constants() -> dict[str, str]:
    return {name: value for name, value in vars(ids).items() if name.isupper() and isinstance(value, str)}


def test_no_module_under_handlers_writes_an_id_out() -> None:
    trees = dict(modules())
    takes_id = id_parameters(list(trees.values()))
    found = {name: typed for name, tree in trees.items() if (typed := typed_ids(tree, takes_id))}
    assert found == {}


def test_the_check_finds_each_way_of_writing_an_id_out() -> None:
    source = """
def button(action_id, text): ...
def draw(page):
    a = {"type": "button", "action_id": "brand_new"}
    b = {"type": "modal", "callback_id": f"form_{page}"}
    c = button("another_new", "Go")
    d = dict(action_id="third_new")
    e = "leave_cancel"
def register(app):
    app.action("brand_new")(draw)
    app.view(FORM)(draw)
    app.action(ids.LEAVE_CANCEL)(draw)
"""
    tree = ast.parse(source)
    assert [f.split(":")[0] for f in typed_ids(tree, id_parameters([tree]))] == [
        "line 10",  # app.action("brand_new")
        "line 11",  # app.view(FORM): a name, not the ids constant
        "line 4",
        "line 5",
        "line 6",
        "line 7",
        "line 8",  # the value of an id, kept in a variable
    ]


def test_each_action_id_is_drawn_and_routed_by_app_action() -> None:
    routed, drawn = constant_uses()
    names = {value: name for name, value in constants().items()}
    for value in ids.ACTIONS:
        assert routed.get(names[value]) == {"action"}, f"{names[value]} is not routed by app.action"
        assert drawn.get(names[value]), f"{names[value]} is routed but drawn nowhere"


def test_each_callback_id_is_drawn_and_routed_by_app_view() -> None:
    routed, drawn = constant_uses()
    names = {value: name for name, value in constants().items()}
    for value in ids.CALLBACKS:
        assert routed.get(names[value]) == {"view"}, f"{names[value]} is not routed by app.view"
        assert any(m.startswith("handlers/render/") for m in drawn.get(names[value], ())), names[value]


def test_a_forms_input_element_id_is_drawn_by_the_renderers_and_read_by_the_payload_reader() -> None:
    _, drawn = constant_uses()
    assert "handlers/payload.py" in drawn["FIELD"]
    assert any(m.startswith("handlers/render/") for m in drawn["FIELD"])


def test_every_id_is_listed_once_and_no_two_share_a_value() -> None:
    values = list(constants().values())
    assert sorted(values) == sorted([*ids.ACTIONS, *ids.CALLBACKS, ids.FIELD])
    assert len(set(values)) == len(values)


def test_the_ids_keep_the_values_buttons_already_posted_in_slack_carry() -> None:
    # a changed value strands every button and form already out there: Slack sends the old one back
    assert constants() == {
        "CLOCKOUT_PICK_TIME": "clockout_pick_time",
        "CLOCK_IN_NOW": "intake_clock_in_now",
        "CLOCK_OUT_NOW": "intake_clock_out_now",
        "HOME_CLOCK_IN": "home_clock_in",
        "HOME_CLOCK_OUT": "home_clock_out",
        "HOME_REQUEST_LEAVE": "home_request_leave",
        "HOME_LINK": "home_link",
        "REMINDER_CLOCK_OUT": "reminder_clock_out",
        "REMINDER_LEFT_AT": "reminder_left_at",
        "NUDGE_CLOCK_IN": "nudge_clock_in",
        "HOME_CLOCK_IN_REMINDER": "home_clock_in_reminder",
        "HOME_CLOCK_IN_REMINDER_OFF": "home_clock_in_reminder_off",
        "LEAVE_CANCEL": "leave_cancel",
        "LEAVE_PAGE_PREV": "leave_page_prev",
        "LEAVE_PAGE_NEXT": "leave_page_next",
        "LEAVE_OPEN_VENDOR": "leave_open_vendor",
        "LEAVE_UNDO": "leave_undo",
        "TYPED_LEAVE_FORM": "typed_leave_form",
        "STATUS_CONNECT": "status_connect",
        "STATUS_DISCONNECT": "status_disconnect",
        "LEAVE_CALLBACK": "leave_request",
        "LINK_CALLBACK": "link_account",
        "END_TIME_CALLBACK": "clockout_end_time",
        "LEFT_AT_CALLBACK": "reminder_left_at_time",
        "FIELD": "value",
    }
