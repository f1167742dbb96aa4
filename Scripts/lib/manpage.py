"""A man page (roff) from swift-argument-parser's help dump: `TOOL --experimental-dump-help`.

    python3 Scripts/lib/manpage.py TOOL SECTION OUT
"""
import datetime, json, subprocess, sys

tool, section, out = sys.argv[1], sys.argv[2], sys.argv[3]
info = json.loads(subprocess.check_output([tool, "--experimental-dump-help"]))["command"]


def esc(text):
    return (text or "").replace("\\", "\\\\").replace("-", "\\-").replace("\n.", "\n\\&.")


def name(arg):
    names = arg.get("names") or []
    flags = [("--" if n["kind"] == "long" else "-") + n["name"] for n in names]
    if arg["kind"] == "positional":
        return "<" + arg.get("valueName", "value") + ">"
    value = "" if arg["kind"] == "flag" else " <" + arg.get("valueName", "value") + ">"
    return ", ".join(flags) + value


def options(cmd, lines):
    for arg in cmd.get("arguments") or []:
        if not arg.get("shouldDisplay", True):
            continue
        lines += [".TP", "\\fB" + esc(name(arg)) + "\\fR", esc(arg.get("abstract", ""))]


def walk(cmd, path, lines):
    for sub in cmd.get("subcommands") or []:
        if not sub.get("shouldDisplay", True):
            continue
        full = path + " " + sub["commandName"]
        lines += [".SS " + esc(full), esc(sub.get("abstract", ""))]
        if sub.get("discussion"):
            lines += [".PP", esc(sub["discussion"])]
        options(sub, lines)
        walk(sub, full, lines)


top = info["commandName"]
lines = [f'.TH {top.upper()} {section} "{datetime.date.today().isoformat()}" "LienThong" "LienThong"',
         ".SH NAME", f"{esc(top)} \\- {esc(info.get('abstract', ''))}",
         ".SH SYNOPSIS", f"\\fB{esc(top)}\\fR " + ("\\fIsubcommand\\fR " if info.get("subcommands") else "") + "[\\fIoptions\\fR]"]
if info.get("discussion"):
    lines += [".SH DESCRIPTION", esc(info["discussion"])]
if info.get("arguments"):
    lines += [".SH OPTIONS"]
    options(info, lines)
if info.get("subcommands"):
    lines += [".SH COMMANDS"]
    walk(info, top, lines)
lines += [".SH SEE ALSO", "/usr/share/doc/lienthong/OPERATIONS.md, /usr/share/doc/lienthong/DESK.md"]
with open(out, "w") as f:
    f.write("\n".join(lines) + "\n")
