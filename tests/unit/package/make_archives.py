#!/usr/bin/env python3
"""Builds the plugin packages test_package.c extracts: one good package and
one for every way an archive can be hostile or wrong. Run at test time:

    make_archives.py OUTDIR GOOD_SO BAD_ABI_SO NO_DEF_SO

GOOD_SO is a plugin named "pkgtest" (version 1.0.0) built for this machine;
BAD_ABI_SO declares SDK ABI 99; NO_DEF_SO defines no ss_plugin_definition.
Every archive is OUTDIR/<case>.tar.gz (or another suffix where the case is
about the container itself)."""
import gzip
import io
import json
import os
import struct
import sys
import tarfile

MTIME = 1700000000


def manifest(name="pkgtest", version="1.0.0", main=None):
    m = {"name": name, "version": version, "displayName": "Package test",
         "description": "A plugin for the package tests", "author": "tests",
         "type": "extension", "category": "Testing", "permissions": []}
    if main:
        m["entrypoints"] = {"main": main}
    return json.dumps(m).encode()


def info(name, kind=tarfile.REGTYPE, size=0, mode=0o644, **kw):
    t = tarfile.TarInfo(name)
    t.type = kind
    t.size = size
    t.mode = mode
    t.mtime = MTIME
    for k, v in kw.items():
        setattr(t, k, v)
    return t


def write(path, members, fmt=tarfile.GNU_FORMAT, compress=True):
    """members: (TarInfo, bytes or None)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt,
                      encoding="utf-8", errors="surrogateescape") as tar:
        for t, data in members:
            if data is not None:
                t.size = len(data)
                tar.addfile(t, io.BytesIO(data))
            else:
                tar.addfile(t)
    raw = buf.getvalue()
    with open(path, "wb") as f:
        f.write(gzip.compress(raw, mtime=0) if compress else raw)


def files(so, man=None, extra=()):
    """The members of a plugin package, with extra members appended."""
    out = [(info("manifest.json"), man if man is not None else manifest()),
           (info("pkgtest.so", mode=0o755), so)]
    return out + list(extra)


def patched_machine(so, machine):
    b = bytearray(so)
    # e_machine: offset 18 in both ELF classes, in the file's byte order.
    order = "<" if b[5] == 1 else ">"
    struct.pack_into(order + "H", b, 18, machine)
    return bytes(b)


def main():
    out, good_so, abi_so, nodef_so = sys.argv[1:5]
    so = open(good_so, "rb").read()
    abi = open(abi_so, "rb").read()
    nodef = open(nodef_so, "rb").read()
    zeros = bytes(1 << 20)
    p = lambda case, suffix=".tar.gz": os.path.join(out, case + suffix)

    write(p("good"), files(so, extra=[
        (info("README.md"), b"# pkgtest\n"),
        (info("docs", tarfile.DIRTYPE, mode=0o755), None),
        (info("docs/more/notes.txt"), b"nested\n"),
    ]))
    # The same through "./" names, as `tar -C dir .` writes them.
    write(p("dotslash"), [(info("./", tarfile.DIRTYPE, mode=0o755), None),
                          (info("./manifest.json"), manifest()),
                          (info("./pkgtest.so", mode=0o755), so)])
    write(p("traversal"), files(so, extra=[(info("../evil.txt"), b"x")]))
    write(p("traversal-inner"), files(so, extra=[(info("docs/../../evil.txt"), b"x")]))
    write(p("absolute"), files(so, extra=[(info("/tmp/ss-evil.txt"), b"x")]))
    write(p("symlink"), files(so, extra=[
        (info("escape", tarfile.SYMTYPE, linkname="../../../etc"), None)]))
    write(p("symlink-inside"), files(so, extra=[
        (info("alias.so", tarfile.SYMTYPE, linkname="pkgtest.so"), None)]))
    write(p("hardlink"), files(so, extra=[
        (info("passwd", tarfile.LNKTYPE, linkname="/etc/passwd"), None)]))
    write(p("device"), files(so, extra=[
        (info("null", tarfile.CHRTYPE, devmajor=1, devminor=3), None)]))
    write(p("blockdev"), files(so, extra=[
        (info("sda", tarfile.BLKTYPE, devmajor=8, devminor=0), None)]))
    write(p("fifo"), files(so, extra=[(info("pipe", tarfile.FIFOTYPE), None)]))
    write(p("setuid"), files(so, extra=[(info("tool", mode=0o4755), b"#!/bin/sh\n")]))
    write(p("setgid-dir"), files(so, extra=[(info("d", tarfile.DIRTYPE, mode=0o2755), None)]))
    write(p("duplicate"), files(so, extra=[(info("manifest.json"), manifest())]))
    write(p("file-over-dir"), files(so, extra=[
        (info("docs", tarfile.DIRTYPE, mode=0o755), None), (info("docs"), b"x")]))
    write(p("dir-over-file"), files(so, extra=[
        (info("README.md"), b"x"), (info("README.md/inner.txt"), b"x")]))
    write(p("many"), files(so, extra=[(info("f%03d" % i), b"x") for i in range(300)]))
    write(p("deep"), files(so, extra=[(info("a/b/c/d/e/f/g/h/i/deep.txt"), b"x")]))
    write(p("control-name"), files(so, extra=[(info("bad\x01name"), b"x")]))
    write(p("non-utf8-name"), files(so, extra=[(info("bad\udcffname"), b"x")]))
    # Bombs for the tests' small limits (1 MiB a file, 3 MiB in all).
    write(p("big-file"), files(so, extra=[(info("big.bin"), zeros + b"x")]))
    write(p("bomb"), files(so, extra=[(info("z%d.bin" % i), zeros[:900000]) for i in range(8)]))
    # Containers.
    good = open(p("good"), "rb").read()
    with open(p("truncated"), "wb") as f:
        f.write(good[:len(good) // 2])
    # Only the gzip trailer (CRC-32 and length) missing, and one byte of it.
    with open(p("truncated-trailer"), "wb") as f:
        f.write(good[:-8])
    with open(p("truncated-crc"), "wb") as f:
        f.write(good[:-1])
    bad_crc = bytearray(good)
    bad_crc[-8] ^= 0xff
    with open(p("bad-crc"), "wb") as f:
        f.write(bytes(bad_crc))
    # Zeros after the tar's end, inside the gzip stream: libarchive never reads them.
    raw = gzip.decompress(good)
    with open(p("hidden-zeros"), "wb") as f:
        f.write(gzip.compress(raw + bytes(8 << 20), mtime=0))
    # Data after the gzip member.
    with open(p("trailing-garbage"), "wb") as f:
        f.write(good + b"garbage after the archive")
    write(p("plain", ".tar"), files(so), compress=False)
    with open(p("garbage"), "wb") as f:
        f.write(b"this is not a gzip file at all\n" * 20)
    with open(p("empty"), "wb") as f:
        f.write(gzip.compress(b"", mtime=0))
    # Contents.
    write(p("no-manifest"), [(info("pkgtest.so", mode=0o755), so)])
    write(p("manifest-dir"), [(info("manifest.json", tarfile.DIRTYPE, mode=0o755), None),
                              (info("pkgtest.so", mode=0o755), so)])
    write(p("bad-manifest"), files(so, man=b"{not json"))
    write(p("other-name"), files(so, man=manifest(name="other")))
    write(p("other-version"), files(so, man=manifest(version="2.0.0")))
    write(p("no-so"), [(info("manifest.json"), manifest())])
    write(p("custom-main"), [(info("manifest.json"), manifest(main="impl.so")),
                             (info("impl.so", mode=0o755), so)])
    write(p("not-elf"), files(b"#!/bin/sh\necho not a shared object\n"))
    write(p("wrong-arch"), files(patched_machine(so, 183 if so[18] != 183 else 62)))
    write(p("bad-abi"), files(abi))
    write(p("no-definition"), files(nodef))


if __name__ == "__main__":
    main()
