"""What `das run` builds for the uplink from a site configuration (agent/daemon/plan.py, runner.py), checked on the
demo site (one platform carrying a gas and a water outlet) without any network:

- one session per (platform, outlet), each with its outlet's ST (HJ 212 Table 5: 31 废气, 32 废水);
- the command handler gets the site's DAS identity (`[site]` das_id, cpu_id, macs), so a 2025 1002 addressed to
  this DAS is accepted and one for another is refused, and the agent's clock and live values as services.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from agent.config import load_config
from agent.daemon.clock import AgentClock
from agent.daemon.plan import plan_from_config
from agent.daemon.runner import _uplinks
from agent.daemon.site import Site
from buffer import Store
from uplink import services
from uplink.commands import DasIdentity
from uplink.hj212 import Cp, Frame, QnRtn, make_flag

DEMO = Path(__file__).resolve().parents[2] / "agent" / "config" / "demo_site.toml"
DAS_ID = "6970000000001ABCDEFG1234"
NEW_MN = "33010000A8900016F0000099"


def demo_site(tmp_path: Path, identity: str = "") -> Path:
    text = DEMO.read_text(encoding="utf-8").replace("[site]\n", f"[site]\n{identity}", 1)
    path = tmp_path / "site.toml"
    path.write_text(text, encoding="utf-8")
    return path


async def test_each_session_carries_its_outlets_st(tmp_path: Path) -> None:
    plan = plan_from_config(load_config(demo_site(tmp_path), environ={}), state_dir=tmp_path)
    with Store(plan.store_path) as store:
        site = Site(plan, store, AgentClock())
        sessions = _uplinks(site).manager.sessions
        assert sorted(sessions) == ["national/DA001", "national/DW001", "province/DA001", "province/DW001"]
        for target, session in sessions.items():
            frame = session.context.data_frame("2051", Cp.build({"DataTime": datetime(2026, 1, 5)}), answer=True)
            assert frame.st == ("31" if target.endswith("DA001") else "32"), target
        assert plan.identity is None  # the demo site gives none


async def test_the_handler_knows_the_das_identity_and_the_services(tmp_path: Path) -> None:
    path = demo_site(tmp_path, f'das_id = "{DAS_ID}"\ncpu_id = "A800200A8C6D"\nmacs = ["e86a643c7bbc"]\n')
    plan = plan_from_config(load_config(path, environ={}), state_dir=tmp_path)
    assert plan.identity == DasIdentity(DAS_ID, "A800200A8C6D", ("E86A643C7BBC",))
    with Store(plan.store_path) as store:
        site = Site(plan, store, AgentClock())
        session = _uplinks(site).manager.sessions["province/DW001"]  # HJ 212-2025
        assert session.handler is not None and session.handler.identity == plan.identity
        assert session.services.clock is site.clock and session.services.live is site.services
        assert isinstance(site.clock, services.AgentClock)  # the one production clock meets the uplink's Protocol

        def assign(das_id: str) -> Frame:
            settings = session.settings
            return Frame(
                qn="20260105120000123",
                st=settings.st,
                cn="1002",
                pw=settings.pw,
                mn=NEW_MN,
                flag=make_flag(2025, answer=True),
                cp=Cp.parse(f"i23005-Info={das_id}"),
            )

        assert session.handler.check(assign(DAS_ID), session.context) is None
        refused = session.handler.check(assign("6970000000001ABCDEFG0000"), session.context)
        assert refused is not None and refused[0] == QnRtn.MN_ERROR
