"""``LiveConfig`` files: defaults, TOML and YAML, unknown keys named, secrets only by env-var name."""

import dataclasses
from pathlib import Path

import pytest

from nautilus_dolphin.cli import main
from strategies.live_config import RISK_FIELDS
from strategies.live_config import SECTIONS
from strategies.live_config import LiveConfig
from strategies.live_config import config_from_dict
from strategies.live_config import format_config
from strategies.live_config import load_live_config

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "live.toml"


def test_every_field_has_a_doc_line_and_print_config_round_trips(tmp_path):
    for cls in (LiveConfig, *SECTIONS.values()):
        for fld in dataclasses.fields(cls):
            if fld.name not in SECTIONS and fld.name != "risk":
                assert fld.metadata.get("doc"), f"{cls.__name__}.{fld.name} has no doc line"
    text = format_config(LiveConfig())
    for name in RISK_FIELDS:
        assert name in text
    path = tmp_path / "all.toml"
    path.write_text(text)
    loaded = load_live_config(path)
    assert dataclasses.replace(loaded, risk={}) == LiveConfig()
    assert loaded.risk["max_leverage"] == 9.0  # RiskGuardConfig's default, printed and read back


def test_toml_and_yaml_give_the_same_config(tmp_path):
    toml = tmp_path / "a.toml"
    toml.write_text('mode = "PAPER"\n[strategy]\nassets = ["BTCUSDT", "ETHUSDT"]\n[risk]\nmax_leverage = 3\n'
                    '[scans]\nsource = "scanner"\ninterval_secs = 1\n')
    yaml = tmp_path / "a.yaml"
    yaml.write_text("mode: PAPER\nstrategy:\n  assets: [BTCUSDT, ETHUSDT]\nrisk:\n  max_leverage: 3\n"
                    "scans:\n  source: scanner\n  interval_secs: 1\n")
    a, b = load_live_config(toml), load_live_config(yaml)
    assert a == b
    assert a.mode == "PAPER" and a.strategy.assets == ("BTCUSDT", "ETHUSDT") and a.scans.interval_secs == 1.0
    assert a.state_path.name == "strategy_state.json"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('mdoe = "LIVE"\n', "unknown key 'mdoe'"),
        ('[strategy]\nengien = "d_liq"\n', "unknown key 'strategy.engien'"),
        ("[risk]\nmax_levrage = 2\n", "unknown key 'risk.max_levrage'"),
        ('[binance]\napi_key = "abc"\n', "unknown key 'binance.api_key'"),  # secrets are not config
        ('mode = "YOLO"\n', "mode must be one of"),
        ('[scans]\nsource = "replay"\n', "needs scans.replay_path"),
        ('[binance]\ntestnet = "yes"\n', "binance.testnet: expected true/false"),
    ],
)
def test_bad_files_are_rejected_naming_file_and_key(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as info:
        load_live_config(path)
    assert str(path) in str(info.value)


def test_secrets_come_only_from_the_named_environment_variables(monkeypatch):
    cfg = config_from_dict({"binance": {"api_key_env": "MY_KEY", "api_secret_env": "MY_SECRET"}})
    monkeypatch.delenv("MY_KEY", raising=False)
    with pytest.raises(KeyError, match="'MY_KEY'"):
        cfg.secrets()
    monkeypatch.setenv("MY_KEY", "k-123")
    monkeypatch.setenv("MY_SECRET", "s-456")
    assert cfg.secrets() == ("k-123", "s-456")
    assert "s-456" not in format_config(cfg) and "k-123" not in format_config(cfg)


def test_cli_print_config_and_errors(tmp_path, capsys):
    path = tmp_path / "x.toml"
    path.write_text('mode = "SHADOW"\n[strategy]\nassets = ["BTCUSDT"]\n')
    assert main(["live", "--config", str(path), "--mode", "PAPER", "--print-config"]) == 0
    out = capsys.readouterr().out
    assert 'mode = "PAPER"' in out and 'assets = ["BTCUSDT"]' in out
    path.write_text("[node]\ntimeout = 3\n")
    assert main(["live", "--config", str(path)]) == 2
    assert "unknown key 'node.timeout'" in capsys.readouterr().err
    path.write_text('[binance]\napi_key_env = "DOLPHIN_SURELY_UNSET_KEY"\n')
    assert main(["live", "--config", str(path)]) == 2
    assert "DOLPHIN_SURELY_UNSET_KEY" in capsys.readouterr().err


@pytest.mark.parametrize("mode", ["OFF", "SHADOW", "PAPER", "LIVE"])
def test_example_config_builds_the_node_config_of_each_mode(mode):
    from strategies.live_node import node_config
    from strategies.live_node import strategy_config

    cfg = load_live_config(EXAMPLE).replace(mode=mode)
    node_cfg, _ = node_config(cfg, "key", "secret")
    assert sorted(node_cfg.data_clients) == ["BINANCE", "HAZELCAST"]  # prices; books (scans: own scanner)
    exec_clients = {"OFF": [], "SHADOW": [], "PAPER": ["BINANCE"], "LIVE": ["BINANCE"]}[mode]
    assert sorted(node_cfg.exec_clients) == exec_clients
    if mode == "PAPER":
        assert type(node_cfg.exec_clients["BINANCE"]).__name__ == "SandboxExecutionClientConfig"
    if mode == "LIVE":
        assert node_cfg.exec_clients["BINANCE"].testnet is True
    assert node_cfg.risk_engine.max_order_submit_rate == "60/00:01:00"  # 2 x max_orders_per_minute
    scfg = strategy_config(cfg)
    assert scfg.mode == {"OFF": "OFF", "SHADOW": "SHADOW", "PAPER": "TRADE", "LIVE": "TRADE"}[mode]
    assert scfg.risk["max_leverage"] == 3.0 and scfg.state_path.endswith("strategy_state.json")
    assert scfg.scan_client_id is None and scfg.ob_client_id == "HAZELCAST" and scfg.oms_type == "NETTING"


def test_live_node_refuses_a_process_where_binance_accounts_are_calculated(tmp_path, monkeypatch):
    """After a BINANCE backtest in this process a LIVE node would double-count fees: it must refuse."""
    from nautilus_trader.backtest.engine import BacktestEngine
    from nautilus_trader.backtest.engine import BacktestEngineConfig
    from nautilus_trader.config import LoggingConfig

    from strategies.live_node import binance_accounts_calculated
    from strategies.live_node import build_live_node
    from strategies.venue import add_binance_usdtm_venue

    engine = BacktestEngine(BacktestEngineConfig(logging=LoggingConfig(bypass_logging=True)))
    add_binance_usdtm_venue(engine, 1000.0)  # registers BINANCE as a calculated-account venue, for good
    engine.dispose()
    assert binance_accounts_calculated()
    cfg = load_live_config(EXAMPLE).replace(mode="LIVE", state_dir=str(tmp_path / "state"))
    with pytest.raises(RuntimeError, match="refusing to build a LIVE node"):
        build_live_node(cfg)
    assert not (tmp_path / "state").exists()  # refused before anything was written
