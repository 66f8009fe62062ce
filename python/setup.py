# SPDX-License-Identifier: MIT
"""Builds librope._core: the C library (../src, through its own CMake build, as the static library
librope.a) linked into the extension (src/*.c). `pip install ./python` from the repository root;
needs cmake, a C compiler and DLPack's header (Debian's libdlpack-dev), as `make` does."""
import glob
import os
import re
import subprocess

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def version():
    with open(os.path.join(ROOT, "include", "rope.h"), encoding="utf-8") as f:
        return re.search(r'#define ROPE_VERSION_STRING "([^"]+)"', f.read()).group(1)


def cmake():
    """The first cmake on PATH that runs (a pip-installed cmake's wrapper may not in pip's isolated
    build environment)."""
    for d in os.environ.get("PATH", "").split(os.pathsep) + ["/usr/bin", "/usr/local/bin"]:
        exe = os.path.join(d, "cmake")
        if os.access(exe, os.X_OK) and subprocess.call([exe, "--version"], stdout=subprocess.DEVNULL,
                                                       stderr=subprocess.DEVNULL) == 0:
            return exe
    raise RuntimeError("librope: building the extension needs cmake (apt-get install cmake)")


class BuildWithLibrary(build_ext):
    """Builds librope.a with the project's CMake (its ISA kernels need per-file flags), then links it."""

    def run(self):
        lib_build = os.path.join(os.path.abspath(self.build_temp), "librope-cmake")
        exe = cmake()
        subprocess.check_call([exe, "-S", ROOT, "-B", lib_build, "-DCMAKE_BUILD_TYPE=Release",
                               "-DROPE_BUILD_TESTS=OFF"])
        subprocess.check_call([exe, "--build", lib_build, "--target", "rope_static", "-j",
                               str(os.cpu_count() or 2)])
        archive = os.path.join(lib_build, "librope.a")
        for ext in self.extensions:
            ext.extra_objects.append(archive)
        super().run()


setup(
    version=version(),
    ext_modules=[Extension(
        "librope._core",
        sources=sorted(glob.glob(os.path.join("src", "*.c"))),
        include_dirs=[os.path.join(ROOT, "include")],
        extra_compile_args=["-std=c11", "-fvisibility=hidden"],
        libraries=["m"],
        extra_link_args=["-pthread"],
    )],
    cmdclass={"build_ext": BuildWithLibrary},
)
