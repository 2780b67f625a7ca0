"""Checking a configuration file with the gateway's own validation.

The gateway has no endpoint that changes its configuration (it reloads its file on SIGHUP);
what an operator needs from code is to know whether a file is valid before deploying it.
:func:`validate_config` runs ``llm-gateway --check-config -c FILE`` — the server's own
validation, as ``gatewayctl config validate`` does — so the two never disagree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from typing import List, Optional, Union

from .errors import GatewayError

__all__ = ["ConfigCheck", "validate_config"]


@dataclass(frozen=True)
class ConfigCheck:
    """The verdict on a configuration file: each problem is ``dotted.key.path: message``."""

    valid: bool
    exit_code: int
    problems: List[str]
    output: str


def _problems(output: str) -> List[str]:
    problems: List[str] = []
    listing = False
    for line in output.splitlines():
        if line.startswith("invalid configuration"):
            listing = True
        elif listing and line.startswith("  - "):
            problems.append(line[4:].strip())
        elif listing and problems and line.strip():
            problems[-1] += "\n" + line.rstrip()
    return problems


def validate_config(
    path: Union[str, "os.PathLike[str]"], *, binary: Optional[str] = None, timeout: float = 30.0
) -> ConfigCheck:
    """Validate the configuration file at ``path``.

    ``binary`` is the ``llm-gateway`` to ask (default ``$LLM_GATEWAY_BIN``, else ``PATH``).
    Raises :class:`~llm_gateway.errors.GatewayError` when it cannot be run or takes longer
    than ``timeout`` seconds; an invalid file is a result (``valid`` false), not an error.
    """
    exe = binary or os.environ.get("LLM_GATEWAY_BIN") or shutil.which("llm-gateway")
    if not exe:
        raise GatewayError("llm-gateway not found: pass binary= or set LLM_GATEWAY_BIN (it performs the check)")
    try:
        proc = subprocess.run(
            [exe, "--check-config", "-c", os.fspath(path)],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as err:
        raise GatewayError(f"llm-gateway --check-config did not finish within {timeout:g} s") from err
    except OSError as err:
        raise GatewayError(f"cannot run {exe}: {err}") from err
    output = proc.stdout + proc.stderr
    return ConfigCheck(valid=proc.returncode == 0, exit_code=proc.returncode, problems=_problems(output), output=output)
