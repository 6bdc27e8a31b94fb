#!/usr/bin/env python3
"""Checks every Bochs ABI fact that adapters/bochs/bochs_abi.h declares against Debian's installed
binaries (bochs-bin and its plugins), with nm, readelf and objdump only: no Bochs source.

Each fact in the header is a constant followed by a `// verify:` comment that says how to check
it (see bochs_abi.h). With --plugin PATH it also checks that fdplug's libbx_floppy.so exports
exactly `libfloppy_plugin_entry`, needs no library but the C/C++ runtime and GLib, and that each
of its undefined symbols is the C/C++ runtime's, exported by bochs-bin or by one of those
libraries. Prints one line per fact; exits 1 on any mismatch, 77 (meson's
"skipped") when Bochs is not installed.
"""
import argparse
import os
import re
import subprocess
import sys

BOCHS_BIN = "/usr/bin/bochs-bin"
PLUGIN_DIR = "/usr/lib/x86_64-linux-gnu/bochs/plugins"


def binary(name):
    if name == "bochs-bin":
        return BOCHS_BIN
    return os.path.join(PLUGIN_DIR, name + ".so.0.0.0")


def run(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


_cache = {}


def nm(path):
    """name -> (addr, size, type) and addr -> [names] for the defined dynamic symbols."""
    key = ("nm", path)
    if key not in _cache:
        by_name, by_addr = {}, {}
        for line in run("nm", "-D", "--defined-only", "-S", path).splitlines():
            f = line.split()
            if len(f) == 4:
                addr, size, typ, name = int(f[0], 16), int(f[1], 16), f[2], f[3]
            elif len(f) == 3:
                addr, size, typ, name = int(f[0], 16), None, f[1], f[2]
            else:
                continue
            name = name.split("@")[0]
            by_name[name] = (addr, size, typ)
            by_addr.setdefault(addr, []).append(name)
        _cache[key] = (by_name, by_addr)
    return _cache[key]


def relocs(path):
    """offset -> (type, symbol or None, addend)."""
    key = ("rel", path)
    if key not in _cache:
        table = {}
        for line in run("readelf", "-rW", path).splitlines():
            m = re.match(r"^([0-9a-f]{8,16})\s+[0-9a-f]+\s+(R_X86_64_\w+)\s+(.*)$", line)
            if not m:
                continue
            off, typ, rest = int(m.group(1), 16), m.group(2), m.group(3).split()
            if typ == "R_X86_64_RELATIVE":
                table[off] = (typ, None, int(rest[0], 16))
            elif len(rest) >= 2:
                table[off] = (typ, rest[1].split("@")[0], 0)
        _cache[key] = table
    return _cache[key]


def demangle(name):
    return run("c++filt", name).strip() if name else "?"


def vtable_slot(path, vtable, slot):
    by_name, by_addr = nm(path)
    if vtable not in by_name:
        return None, f"{vtable} not exported"
    addr = by_name[vtable][0] + 16 + slot  # offset-to-top and typeinfo precede slot 0
    rel = relocs(path).get(addr)
    if rel is None:
        return None, f"no relocation at {addr:#x}"
    typ, sym, addend = rel
    if sym:
        return sym, None
    names = by_addr.get(addend)
    return (names[0] if names else f"{addend:#x}"), None


# --- a tiny symbolic tracker over objdump's AT&T output -------------------------------------

R32 = {"eax": "rax", "ebx": "rbx", "ecx": "rcx", "edx": "rdx", "esi": "rsi", "edi": "rdi",
       "ebp": "rbp", "esp": "rsp", **{f"r{i}d": f"r{i}" for i in range(8, 16)}}
CLOBBERED = ["rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11"]


def reg(op):
    op = op.strip()
    if not op.startswith("%"):
        return None
    r = op[1:]
    return R32.get(r, r)


def split_ops(s):
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    if cur:
        out.append(cur)
    return [o.strip() for o in out]


def mem(op):
    m = re.match(r"^(-?0x[0-9a-f]+|-?\d+)?\(%(\w+)\)$", op)
    if not m:
        return None
    disp = int(m.group(1), 0) if m.group(1) else 0
    return disp, R32.get(m.group(2), m.group(2))


def deref(expr, disp):
    return f"[{expr}+{disp:#x}]" if disp else f"[{expr}]"


def trace(path, function):
    """Runs the tracker over one function; returns (compares, calls, loads) as expression lists."""
    key = ("trace", path, function)
    if key in _cache:
        return _cache[key]
    text = run("objdump", "-d", "--no-show-raw-insn", f"--disassemble={function}", path)
    by_name, by_addr = nm(path)
    rel = relocs(path)

    def rip_value(target, is_lea):
        if not is_lea and target in rel and rel[target][1]:
            return "&" + rel[target][1]           # a GOT slot holds the symbol's address
        names = by_addr.get(target)
        if names:
            return ("&" if is_lea else "[&") + names[0] + ("" if is_lea else "]")
        return None

    regs, compares, calls, loads = {}, [], [], []
    guarded = {}        # register -> symbol it was last compared with (a devirtualisation guard)
    pending, window = None, 0  # symbol whose call just returned, instructions left to look at
    for line in text.splitlines():
        m = re.match(r"^\s+[0-9a-f]+:\s+(\S+)\s*(.*?)\s*(?:#\s*([0-9a-f]+).*)?$", line)
        if not m:
            continue
        mnem, ops, target = m.group(1), split_ops(m.group(2)), m.group(3)
        target = int(target, 16) if target else None
        window -= 1
        if pending and window > 0 and mnem == "mov" and len(ops) == 2 and mem(ops[0]) and mem(ops[0])[1] == "rax":
            loads.append(f"ret({pending})+{mem(ops[0])[0]:#x}")  # a member of what the call returned
        if mnem in ("mov", "movq", "movl", "lea") and len(ops) == 2 and reg(ops[1]):
            dst, src = reg(ops[1]), ops[0]
            val = None
            if "(%rip)" in src and target is not None:
                val = rip_value(target, mnem == "lea")
            elif mnem != "lea" and mem(src):
                disp, base = mem(src)
                if base in regs:
                    val = deref(regs[base], disp)
                    loads.append(val)
            elif reg(src) in regs:
                val = regs[reg(src)]
            if val is None:
                regs.pop(dst, None)
            else:
                regs[dst] = val
        elif mnem.startswith("cmp") and len(ops) == 2:
            a, b = ops
            other = rip_value(target, False) if "(%rip)" in a and target is not None else regs.get(reg(a))
            if reg(b) in regs and other:
                compares.append((regs[reg(b)], other))
            if other and other.startswith("&") and reg(b):
                guarded[reg(b)] = other[1:]
        elif mnem == "call":
            op = ops[0] if ops else ""
            expr = None
            if op.startswith("*"):
                if mem(op[1:]):
                    disp, base = mem(op[1:])
                    expr = deref(regs[base], disp) if base in regs else None
                else:
                    expr = regs.get(reg(op[1:]))
                    if reg(op[1:]) in guarded:
                        pending, window = guarded[reg(op[1:])], 8
                if expr:
                    calls.append(expr)
            for r in CLOBBERED:
                regs.pop(r, None)
            if expr:
                regs["rax"] = f"ret({expr})"
        elif ops and reg(ops[-1]) and not mnem.startswith(("test", "push", "cmp", "j", "nop")):
            regs.pop(reg(ops[-1]), None)
    _cache[key] = (compares, calls, loads)
    return _cache[key]


def allocations(path, function, ctor):
    """The sizes FUNCTION passes to operator new (mov $SIZE,%edi; call operator new) whose
    object the constructor CTOR is called on within the next few instructions."""
    target = nm(path)[0].get(ctor)
    if not target:
        return []
    text = run("objdump", "-d", "--no-show-raw-insn", f"--disassemble={function}", path)
    size, after_new, sizes = None, None, []
    for line in text.splitlines():
        m = re.match(r"^\s+[0-9a-f]+:\s+(\S+)\s*(.*)$", line)
        if not m:
            continue
        mnem, ops = m.group(1), m.group(2)
        if after_new is not None:
            after_new += 1
        if mnem == "mov" and ops.endswith(",%edi") and ops.startswith("$"):
            size = int(ops[1:].split(",")[0], 16)
        elif mnem == "call" and "<_Znwm" in ops:
            after_new, pending = 0, size
        elif mnem == "call" and after_new is not None and after_new < 10 and \
                re.match(rf"^{target[0]:x}\s", ops):
            sizes.append(pending)
            after_new = None
    return sizes


# --- the checks -------------------------------------------------------------------------------

def check_fact(name, value, how):
    """Returns (ok, message)."""
    f = how.split()
    kind = f[0]
    if kind == "size":  # size BINARY SYMBOL TYPE: the constant is the symbol's size
        path, sym, typ = binary(f[1]), f[2], f[3]
        got = nm(path)[0].get(sym)
        if not got:
            return False, f"{sym} is not exported by {f[1]}"
        ok = got[1] == value and got[2] == typ
        return ok, f"{sym}: nm -D says {got[2]} size {got[1]:#x}"
    if kind == "slot":  # slot BINARY VTABLE NAME[|NAME]: the constant is the slot's byte offset
        path, vt, names = binary(f[1]), f[2], f[3].split("|")
        sym, err = vtable_slot(path, vt, value)
        if err:
            return False, err
        return sym in names, f"{demangle(vt)} +{value:#x} = {demangle(sym)}"
    if kind == "hub":  # hub FUNCTION SLOT SYMBOL: Debian's floppy code loads bx_devices+VALUE, then
        # the object's vtable slot SLOT, and compares it with SYMBOL (g++'s devirtualisation guard)
        fn, slot, sym = f[1], int(f[2], 0), f[3]
        compares, _, _ = trace(binary("libbx_floppy"), fn)
        want = (f"[[[&bx_devices+{value:#x}]]+{slot:#x}]", "&" + sym)
        ok = want in compares
        return ok, f"{demangle(fn)}: bx_devices+{value:#x} slot {slot:#x} compared with {demangle(sym)}"
    if kind == "guard":  # guard BINARY FUNCTION SYMBOL: in FUNCTION, some vtable slot VALUE is
        # compared with SYMBOL (e.g. bx_init_plugins calls slot 0x10 = bx_devmodel_c::init)
        path, fn, sym = binary(f[1]), f[2], f[3]
        compares, _, _ = trace(path, fn)
        hits = [e for e, o in compares if o == "&" + sym and e.endswith(f"+{value:#x}]")]
        return bool(hits), f"{demangle(fn)}: slot {value:#x} compared with {demangle(sym)}"
    if kind == "load":  # load BINARY FUNCTION EXPR: FUNCTION loads EXPR, VALUE written as {V}
        path, fn, expr = binary(f[1]), f[2], f[3].replace("{V}", f"{value:#x}")
        _, calls, loads = trace(path, fn)
        ok = expr in loads or expr in calls
        return ok, f"{demangle(fn)} loads {expr}"
    if kind == "alloc":  # alloc BINARY FUNCTION CTOR: in FUNCTION, operator new is called with
        # VALUE bytes and what it returned goes to CTOR: the size Bochs allocates for that class
        path, fn, ctor = binary(f[1]), f[2], f[3]
        sizes = allocations(path, fn, ctor)
        return value in sizes, f"{demangle(fn)} allocates {[hex(v) for v in sizes]} for {demangle(ctor)}"
    if kind == "imm":  # imm BINARY FUNCTION TEXT: the function's disassembly holds TEXT
        path, fn = binary(f[1]), f[2]
        text = " ".join(how.split(None, 3)[3].split())
        dis = " ".join(run("objdump", "-d", "--no-show-raw-insn", f"--disassemble={fn}", path).split())
        return text in dis, f"{demangle(fn)} has `{text}`"
    if kind == "string":  # string BINARY: the constant's text is in the binary's read-only data
        path = binary(f[1])
        found = any(value in s for s in run("strings", "-a", "-n", "3", path).splitlines())
        return found, f'"{value}" in {f[1]}'
    if kind == "value":  # value: a fact of the interface itself (a mode number), nothing to read
        return True, "interface value: " + " ".join(f[1:])
    return False, f"unknown verify kind {kind!r}"


FACT = re.compile(r"constexpr\s+[\w:]+\s+(k\w+)\s*=\s*(0x[0-9A-Fa-f]+|\d+)\s*;\s*//\s*verify:\s*(.+)$")
STRING_FACT = re.compile(r'constexpr\s+char\s+(k\w+)\[\]\s*=\s*"([^"]*)"\s*;\s*//\s*verify:\s*(.+)$')


# The libraries the module may need: the C/C++ runtime, and GLib for QMP inside Bochs
# (adapters/bochs/bochs_qmp.cc), which bochs-bin itself links already.
ALLOWED_NEEDED = ["libglib-2.0.so.0", "libstdc++.so.6", "libm.so.6", "libgcc_s.so.1", "libc.so.6"]


def library_path(soname):
    """Where the dynamic linker finds SONAME (ldconfig's cache), or None."""
    for line in run("ldconfig", "-p").splitlines():
        f = line.strip().split(" => ")
        if len(f) == 2 and f[0].split()[0] == soname and "x86-64" in f[0]:
            return f[1]
    return None


def check_plugin(path):
    """fdplug's module: exports only the entry; needs only ALLOWED_NEEDED; every undefined
    symbol resolves, from bochs-bin or from one of those libraries."""
    failures = 0
    exported = [l.split()[-1].split("@")[0] for l in run("nm", "-D", "--defined-only", path).splitlines()]
    ok = exported == ["libfloppy_plugin_entry"]
    print(("ok  " if ok else "FAIL") + f" {os.path.basename(path)} exports {exported}")
    failures += not ok
    needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", run("readelf", "-d", path))
    extra = [n for n in needed if n not in ALLOWED_NEEDED]
    print(("ok  " if not extra else "FAIL") + f" DT_NEEDED {needed}" +
          (f": {extra} not allowed (only {ALLOWED_NEEDED})" if extra else ""))
    failures += bool(extra)
    bochs = nm(BOCHS_BIN)[0]
    libraries = {}
    for soname in needed:
        lib = library_path(soname)
        if lib:
            libraries[soname] = nm(lib)[0]
    by_library = {}
    for line in run("nm", "-D", "--undefined-only", path).splitlines():
        sym = line.split()[-1]
        base, _, ver = sym.partition("@")
        if ver or base.startswith("__") or base in ("_ITM_deregisterTMCloneTable", "_ITM_registerTMCloneTable"):
            continue  # versioned: libc / libstdc++ / libgcc
        if base in bochs:
            print(f"ok   undefined {demangle(base)}: exported by bochs-bin")
            continue
        where = [soname for soname, syms in libraries.items() if base in syms]
        if where:
            by_library.setdefault(where[0], []).append(base)
            continue
        print(f"FAIL undefined {demangle(base)}: exported neither by bochs-bin nor by {needed}")
        failures += 1
    for soname, syms in by_library.items():
        print(f"ok   {len(syms)} undefined symbols exported by {soname} (DT_NEEDED), e.g. {', '.join(sorted(syms)[:3])}")
    flags = run("readelf", "-d", path)
    ok = "BIND_NOW" in flags
    print(("ok  " if ok else "FAIL") + " linked with BIND_NOW (-z now)")
    return failures + (not ok)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("header")
    ap.add_argument("--plugin", help="fdplug's built libbx_floppy.so to check as well")
    args = ap.parse_args()
    if not os.path.exists(BOCHS_BIN):
        print(f"skip: {BOCHS_BIN} not installed (scripts/setup installs bochs)")
        return 77
    failures = count = 0
    with open(args.header) as fh:
        for line in fh:
            m = FACT.search(line)
            if m:
                name, value, how = m.group(1), int(m.group(2), 0), m.group(3).strip()
            elif STRING_FACT.search(line):
                m = STRING_FACT.search(line)
                name, value, how = m.group(1), m.group(2), m.group(3).strip()
            else:
                continue
            try:
                ok, msg = check_fact(name, value, how)
            except subprocess.CalledProcessError as e:
                ok, msg = False, f"{e.cmd[0]} failed: {e.stderr.strip()}"
            count += 1
            failures += not ok
            shown = f"{value:#x}" if isinstance(value, int) else f'"{value}"'
            print(("ok  " if ok else "FAIL") + f" {name} = {shown}: {msg}")
    if args.plugin:
        failures += check_plugin(args.plugin)
    print(f"{count} facts checked, {failures} failed")
    return 1 if failures or count == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
