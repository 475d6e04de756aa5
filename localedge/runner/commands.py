"""Commands that talk to a running ``python -m localedge run``, like the ones used against a device:
``list`` (``iotedge list``), ``logs`` (``iotedge logs``), ``restart`` (``iotedge restart``), ``twin get|set``
(``az iot hub module-twin show|update``), ``monitor`` (``az iot hub monitor-events``), ``invoke``
(``az iot hub invoke-module-method``) and ``upstream offline|online``.

Each finds the runner through its state file (:mod:`localedge.runner.discovery`) and asks its control
endpoint (:mod:`localedge.runner.control`). With no runner running they print one line and exit 1;
when several run, ``--runner PID`` chooses one.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import re
import socket
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError

from localedge.commandline import add_command
from localedge.deploy.manifest import json_depth
from localedge.runner.control import MAX_REQUEST_BYTES, Reply, Request
from localedge.runner.discovery import running_states, state_dir

logger = logging.getLogger("localedge")

CONNECT_TIMEOUT_S = 5.0
REPLY_TIMEOUT_S = 30.0  # a non-streaming answer; invoke and twin set add their own wait
MAX_REPLY_LINE = 16 * 1024 * 1024


class CommandError(RuntimeError):
    """The command cannot be done; the message is the one line to print (exit 1)."""


def find_runner(pid: int | None, folder: Path | None = None) -> Path:
    """The control socket of the running runner (``pid``, or the only one) whose state file is in ``folder``
    (default: :func:`state_dir`); raises CommandError."""
    states = [s for s in running_states(folder or state_dir()) if pid is None or int(s["pid"]) == pid]
    if not states:
        which = f" with pid {pid}" if pid is not None else ""
        raise CommandError(f"no local runner{which} is running: start one with `python -m localedge run`")
    if len(states) > 1:
        pids = ", ".join(str(s["pid"]) for s in states)
        raise CommandError(f"{len(states)} local runners are running (pids {pids}): choose one with --runner PID")
    control = states[0].get("control")
    if not control:
        raise CommandError(f"the local runner {states[0]['pid']} has no control endpoint (an older version?)")
    return Path(control)


def ask(path: Path, request: Request, timeout_s: float | None = REPLY_TIMEOUT_S) -> Iterator[Reply]:
    """Send ``request`` to the control socket at ``path``; yield the reply lines. An ``error`` reply raises
    CommandError; a stream goes on until the caller stops (or the runner stops). ``timeout_s``: the longest
    wait for a line (None: no limit)."""
    data = request.model_dump_json(exclude_defaults=True).encode("utf-8")
    if len(data) >= MAX_REQUEST_BYTES:
        raise CommandError(f"the request is {len(data)} bytes; the runner takes at most {MAX_REQUEST_BYTES}")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(CONNECT_TIMEOUT_S)
        try:
            sock.connect(str(path))
        except OSError as exc:
            raise CommandError(f"the local runner does not answer at {path}: {exc.strerror or exc}") from None
        unsent: OSError | None = None
        try:
            sock.sendall(data + b"\n")
        except OSError as exc:  # the runner may have answered already (busy) and closed: read that answer
            unsent = exc
        sock.settimeout(timeout_s)
        with sock.makefile("rb") as reader:
            while True:
                try:
                    line = reader.readline(MAX_REPLY_LINE)
                except TimeoutError:
                    raise CommandError(f"the local runner did not answer within {timeout_s} s") from None
                except OSError as exc:
                    raise CommandError(f"the connection to the local runner broke: {exc}") from None
                if not line:
                    if unsent is not None:
                        raise CommandError(f"the local runner does not answer at {path}: {unsent.strerror or unsent}")
                    return
                reply = Reply.model_validate_json(line)
                if reply.kind == "error":
                    raise CommandError(reply.error or "the runner refused the request")
                yield reply
    finally:
        sock.close()


def result(path: Path, request: Request, timeout_s: float = REPLY_TIMEOUT_S) -> Any:
    """The ``result`` of a request that has one answer."""
    for reply in ask(path, request, timeout_s):
        if reply.kind == "result":
            return reply.result
    raise CommandError("the local runner stopped before it answered")


def _duration(text: str) -> float:
    """``90``, ``90s``, ``5m``, ``2h``, ``1d`` -> seconds (argparse type)."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    text = text.strip().lower()
    scale = units.get(text[-1:], None)
    number = text[:-1] if scale else text
    try:
        value = float(number) * (scale or 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: write a duration like 30s, 5m, 2h or 1d") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r}: a duration is not negative")
    return value


def _method_timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 300:
        raise argparse.ArgumentTypeError(f"{text!r}: write a number of seconds above 0, at most 300")
    return value


MAX_JSON_DEPTH = 32  # nesting a twin patch or method payload may have (IoT Hub allows desired properties 10 levels)


def _wait(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 900:
        raise argparse.ArgumentTypeError(f"{text!r}: write a number of seconds from 0 to 900")
    return value


def _json(text: str, example: str = '{"text": "hello"}') -> Any:
    """A JSON argument (twin patch, method payload); raises ArgumentTypeError in one line for text that is not
    JSON (showing ``example``, the command's own), nests deeper than MAX_JSON_DEPTH or holds a lone surrogate
    (which no UTF-8 message can carry)."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise argparse.ArgumentTypeError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not JSON ({exc}): quote it for the shell, e.g. '{example}'") from None
    if json_depth(value) > MAX_JSON_DEPTH:
        raise argparse.ArgumentTypeError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise argparse.ArgumentTypeError(f"a string holds {exc.object[exc.start:exc.end]!r}, a lone surrogate that is "
                                         "not text (UTF-8 cannot carry it)") from None
    return value


def _uptime(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    if seconds < 86400:
        return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d {seconds % 86400 // 3600:02d}h"


def format_list(answer: dict[str, Any]) -> str:
    """``list``'s table (like ``iotedge list``) and the hub's counters."""
    rows = [("NAME", "STATUS", "UPTIME", "RESTARTS", "VERSION", "RESTART POLICY", "DESCRIPTION")]
    for m in answer["modules"]:
        if m["status"] == "running":
            description = "connected to the hub" if m["connected"] else "not connected to the hub"
        elif m["status"] == "backoff":
            description = f"exited with code {m['exit_code']}; restarting in {m['restart_in_s']:g} s"
        else:
            description = f"exited with code {m['exit_code']}" if m["exit_code"] is not None else ""
        uptime = _uptime(m["uptime_s"]) if m["status"] == "running" else "-"
        rows.append((m["name"], m["status"], uptime, str(m["restarts"]), m["version"] or "-", m["restart_policy"], description))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    c = answer["counters"]
    lines.append("")
    failed = f", {c['condition_errors']} failed a route's condition (a runner bug: see its log)" if c.get("condition_errors") else ""
    lines.append(f"messages: {c['routed']} routed, {c['unrouted']} unrouted (dropped){failed}")
    lines.append(f"$upstream ({'online' if c['upstream_online'] else 'offline'}): {c['upstream_delivered']} delivered, "
                 f"{c['upstream_queued']} queued, {c['upstream_expired']} expired, {c['upstream_dropped']} dropped")
    return "\n".join(lines) + "\n"


def cmd_list(args: argparse.Namespace, out: TextIO) -> int:
    answer = result(find_runner(args.runner), Request(command="list"))
    out.write(json.dumps(answer, indent=2) + "\n" if args.json else format_list(answer))
    return 0


MODULE_TIME = re.compile(r"^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)? ")  # edgekit's asctime


def _log_line(line: dict[str, Any], timestamps: bool) -> str:
    """A log line as printed; with ``timestamps`` the time the runner took it (UTC) in place of the module's own
    leading timestamp (local time), so that each line has one."""
    if not timestamps:
        return f"{line['text']}\n"
    stamp = datetime.fromtimestamp(line["time"], timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return f"{stamp} {MODULE_TIME.sub('', line['text'], count=1)}\n"


def cmd_logs(args: argparse.Namespace, out: TextIO) -> int:
    request = Request(command="logs", module=args.module, tail=args.tail, since_s=args.since, follow=args.follow)
    for reply in ask(find_runner(args.runner), request, None if args.follow else REPLY_TIMEOUT_S):
        if reply.kind == "line":
            out.write(_log_line(reply.result, args.timestamps))
            out.flush()
    return 0


def cmd_restart(args: argparse.Namespace, out: TextIO) -> int:
    answer = result(find_runner(args.runner), Request(command="restart", module=args.module))
    out.write(f"{answer['module']}: {answer['action']}\n")
    return 0


def cmd_twin(args: argparse.Namespace, out: TextIO) -> int:
    path = find_runner(args.runner)
    if args.twin_command == "get":
        answer = result(path, Request(command="twin_get", module=args.module))
        out.write(json.dumps({"moduleId": args.module, "properties": answer}, indent=2) + "\n")
        return 0
    if not isinstance(args.patch, dict) or not args.patch:
        raise CommandError("the desired-properties patch is a JSON object, e.g. '{\"threshold\": 0.9}'")
    replies = ask(path, Request(command="twin_set", module=args.module, patch=args.patch, wait_s=args.wait),
                  REPLY_TIMEOUT_S + args.wait)
    answer = next((reply.result for reply in replies if reply.kind == "result"), None)
    if not isinstance(answer, dict):
        raise CommandError("the local runner stopped before it answered")
    status = answer.get("desiredStatus")
    if status is None:
        out.write(f"{args.module}: desired properties version {answer['version']} set; {answer.get('note', '')}\n")
        return 1
    refused = status.get("refused") or ""
    outcome = str(status.get("status"))
    detail = "" if not refused else f": {refused}" if outcome == "refused" else f"; refused: {refused}"
    out.write(f"{args.module}: desired properties version {answer['version']} {outcome}{detail}\n")
    settings = answer.get("settings")
    if isinstance(settings, dict):
        shown = {key: settings[key] for key in args.patch if key in settings}
        if shown:
            out.write(f"reported settings: {json.dumps(shown)}\n")
    if answer.get("modelUpdateFollows"):  # the patch asked for a model: the update's outcome decides
        out.flush()
        final: dict[str, Any] = {}
        for reply in replies:  # pending statuses (downloading, loading), then the outcome
            if reply.kind == "line":
                out.write(f"{args.module}: {reply.result['text']}\n")
                out.flush()
            elif reply.kind == "result":
                final = reply.result
                break
        update = final.get("modelUpdate")
        if not isinstance(update, dict):
            out.write(f"{args.module}: model update not finished: {final.get('note', 'the runner stopped')}\n")
            return 1
        outcome = str(update.get("status"))
        detail = f": {update.get('reason')}" if outcome == "failed" else f" (sha256 {update.get('sha256')})"
        out.write(f"{args.module}: model update {outcome}{detail}\n")
        if outcome != "applied":
            return 1
    return 0 if status.get("status") == "applied" else 1


def cmd_monitor(args: argparse.Namespace, out: TextIO) -> int:
    out.write("Starting event monitor, use ctrl-c to stop...\n")
    out.flush()
    for reply in ask(find_runner(args.runner), Request(command="monitor"), None):
        if reply.kind != "message":
            continue
        record = reply.result
        event: dict[str, Any] = {"origin": "local", "module": record["module"], "output": record["output"],
                                 "payload": record["body"]}
        if args.properties:
            event["properties"] = {"application": record["properties"]}
        out.write(json.dumps({"event": event}, indent=None if args.compact else 2) + "\n")
        out.flush()
    return 0


def cmd_invoke(args: argparse.Namespace, out: TextIO) -> int:
    request = Request(command="invoke", module=args.module, method=args.method, payload=args.payload, timeout_s=args.timeout)
    answer = result(find_runner(args.runner), request, REPLY_TIMEOUT_S + args.timeout)
    out.write(json.dumps({"status": answer["status"], "payload": answer["payload"]}, indent=2) + "\n")
    return 0 if 200 <= int(answer["status"]) < 300 else 1


def cmd_upstream(args: argparse.Namespace, out: TextIO) -> int:
    answer = result(find_runner(args.runner), Request(command="upstream", online=args.state == "online"))
    c = answer["counters"]
    if answer["online"]:
        out.write(f"$upstream online: {answer['delivered']} stored message(s) delivered, {c['upstream_expired']} expired so far\n")
    else:
        out.write(f"$upstream offline: messages are stored (up to each route's time-to-live) until `upstream online`; "
                  f"{c['upstream_queued']} queued\n")
    return 0


def _main(handler: Any) -> Any:
    def main(args: argparse.Namespace) -> int:
        try:
            return int(handler(args, sys.stdout))
        except CommandError as exc:
            logger.error("%s", exc)
            return 1
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:3])
            logger.error("%s", problems)
            return 2
        except KeyboardInterrupt:
            return 0
        except BrokenPipeError:
            return 0

    return main


def _command(commands: Any, name: str, help_text: str, example: str, handler: Any, runner: bool = True) -> argparse.ArgumentParser:
    cmd = add_command(commands, name, help_text, help_text[0].upper() + help_text[1:] + ".", [example], _main(handler))
    if runner:
        cmd.add_argument("--runner", type=int, metavar="PID", help="the runner to ask, when several run")
    return cmd


def add_parser(commands: Any) -> None:
    """Add list, logs, restart, twin, monitor, invoke and upstream to the CLI's subparsers."""
    cmd = _command(commands, "list", "list the running runner's modules (status, uptime, restarts, version) and message counters",
                   "python -m localedge list", cmd_list)
    cmd.add_argument("--json", action="store_true", help="print the answer as JSON")

    cmd = _command(commands, "logs", "print a module's recent log lines (kept by the runner) and optionally follow them",
                   "python -m localedge logs CameraCapture --tail 5 --since 5m", cmd_logs)
    cmd.add_argument("module", metavar="MODULE")
    cmd.add_argument("--tail", type=int, metavar="N", help="only the last N lines")
    cmd.add_argument("--since", type=_duration, metavar="DURATION", help="only lines of the last DURATION (30s, 5m, 2h)")
    cmd.add_argument("-f", "--follow", action="store_true", help="keep printing new lines until Ctrl-C")
    cmd.add_argument("-t", "--timestamps", action="store_true",
                     help="prefix each line with the time it was logged (UTC), in place of the module's own")

    cmd = _command(commands, "restart", "restart a module now", "python -m localedge restart TextToSpeech", cmd_restart)
    cmd.add_argument("module", metavar="MODULE")

    cmd = _command(commands, "twin", "show a module twin, or update its desired properties",
                   "python -m localedge twin get CameraCapture\n"
                   "  python -m localedge twin set CameraCapture '{\"threshold\": 0.9}'", cmd_twin, runner=False)
    twin = cmd.add_subparsers(dest="twin_command", required=True, metavar="{get,set}")
    get = twin.add_parser("get", help="desired and reported properties, each with $version",
                          epilog="example:\n  python -m localedge twin get CameraCapture",
                          formatter_class=argparse.RawDescriptionHelpFormatter)
    get.add_argument("module", metavar="MODULE")
    get.add_argument("--runner", type=int, metavar="PID", help="the runner to ask, when several run")
    put = twin.add_parser("set", help="apply a desired-properties patch and show the module's desiredStatus",
                          epilog="example:\n  python -m localedge twin set CameraCapture '{\"threshold\": 0.9}'",
                          formatter_class=argparse.RawDescriptionHelpFormatter)
    put.add_argument("module", metavar="MODULE")
    put.add_argument("--runner", type=int, metavar="PID", help="the runner to ask, when several run")
    patch = functools.partial(_json, example='{"threshold": 0.9}')
    put.add_argument("patch", type=patch, metavar="JSON", help="the patch: changed keys only, null removes one")
    put.add_argument("--wait", type=_wait, default=10.0, metavar="S",
                     help="how long to wait for the module's desiredStatus and, when the patch sets modelUrl or "
                          "modelSha256, for the model update's outcome (applied or failed), 0-900 s (default: %(default)s)")

    cmd = _command(commands, "monitor", "print $upstream messages as they are delivered (Ctrl-C stops)",
                   "python -m localedge monitor --properties", cmd_monitor)
    cmd.add_argument("--properties", "-p", action="store_true", help="also print each message's application properties")
    cmd.add_argument("--compact", action="store_true", help="one line per message")

    cmd = _command(commands, "invoke", "invoke a module's direct method and print its status and payload",
                   "python -m localedge invoke TextToSpeech say '{\"text\": \"hello\"}'", cmd_invoke)
    cmd.add_argument("module", metavar="MODULE")
    cmd.add_argument("method", metavar="METHOD")
    cmd.add_argument("payload", nargs="?", type=_json, default=None, metavar="JSON", help="the method's payload (default: null)")
    cmd.add_argument("--timeout", type=_method_timeout, default=30.0, metavar="S",
                     help="how long the module has to answer, 0-300 s (default: %(default)s)")

    cmd = _command(commands, "upstream", "make $upstream unavailable (messages are stored) or available again",
                   "python -m localedge upstream offline", cmd_upstream)
    cmd.add_argument("state", choices=("offline", "online"))

