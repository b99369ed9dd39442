"""Chinese (and, where the model has no description, English) labels for keys of the embedded models.

The statistics, link and uplink models were written with English descriptions; the configuration's comments,
sample and docs are bilingual, so the Chinese label of each such key lives here, keyed by the key name. A test
checks that every key of the configuration gets a bilingual description.
"""

from __future__ import annotations

from types import MappingProxyType

__all__ = ["LABELS"]

# key → (中文, English used only when the model's field has no description)
LABELS = MappingProxyType(
    {
        # outlets (agent.stats.params)
        "outlet": ("排放口编号", "outlet id"),
        "kind": ("类型 gas 废气 / water 废水", "gas or water"),
        "min_interval": ("分钟数据间隔 (分钟)", "MinInterval, minutes"),
        "rtd_interval": ("实时数据间隔 (秒)", "RtdInterval, seconds"),
        "validity": ("有效性判定", "validity thresholds"),
        "flags": ("无效窗口的标记规则", "flag of an invalid window"),
        "alarms": ("自检报警阈值", "self-check thresholds"),
        "cou_method": ("小时排放量算法", "hour Cou method"),
        "reference_o2": ("基准氧含量 %", "reference O2"),
        "o2_guard": ("停炉氧含量 %", "O2 above which no Zs is computed"),
        "duct_area": ("烟道截面积 m2", "duct cross-section"),
        "velocity_coefficient": ("速度场系数 Kv", "velocity field coefficient"),
        "ambient_pressure_kpa": ("大气压 kPa", "ambient pressure"),
        "flow_code": ("流量因子代码", "flow factor code"),
        "flow_unit": ("流量上报单位", "reported flow unit"),
        "flow_decimals": ("流量小数位", "decimals of the reported flow"),
        "nox": ("氮氧化物由 NO/NO2 折算", "NOx as NO2 from NO and NO2 (regs.md §2.2)"),
        "zero_flow_m3": ("零流量阈值 m3", "zero-flow volume"),
        "zero_flow_mean": ("零流量时的均值算法", "mean with no flow"),
        "batch_carry": ("间歇分析仪的小时沿用", "batch analyzer carry-over"),
        "batch_cycle_min": ("间歇测量有效时长 min", "batch measurement validity"),
        "factors": ("监测因子", "measured factors"),
        "equipment": ("生产/治理设施", "facilities"),
        "code": ("代码", "code"),
        "role": ("角色", "role in the statistics (or production / treatment for equipment)"),
        "unit": ("单位", "unit"),
        "decimals": ("小数位", "decimals"),
        "range": ("量程 [下限, 上限]", "measuring range [low, high]"),
        "limit": ("排放限值", "emission limit"),
        "molar_mass": ("摩尔质量 g/mol", "molar mass"),
        "basis": ("干基/湿基", "dry or wet basis"),
        "state": ("标态/工况", "standard or actual state"),
        "convert_o2": ("计算折算值", "compute Zs values"),
        "batch": ("间歇式分析仪", "batch analyzer"),
        "source": ("读数因子代码", "reading code"),
        "on_threshold": ("运行判定阈值", "running threshold"),
        "name": ("名称", "display name"),
        "no": ("一氧化氮因子", "NO factor code"),
        "no2": ("二氧化氮因子", "NO2 factor code (none: NO only)"),
        "sample_period_s": ("采样周期 s", "sampling period"),
        "minute_valid_fraction": ("分钟有效样本比例", "valid fraction of a minute"),
        "hour_min_valid_minutes": ("小时有效分钟数", "valid minutes for an hour"),
        "day_min_valid_hours": ("日有效小时数", "valid hours for a day"),
        "rule": ("判定方式", "validity rule"),
        "mode": ("标记方式 order/dominant/fixed", "order: first of `order` present; dominant: most frequent; fixed"),
        "order": ("标记优先顺序", "flag order"),
        "fixed": ("固定标记", "flag used by mode = fixed"),
        "missing": ("无数据窗口的标记", "flag of a window without readings"),
        "report_invalid_values": ("无效窗口仍上报数值", "report values of invalid windows"),
        "constant_count": ("恒值报警次数", "constant-value count"),
        "constant_level": ("恒值判定级别 hour/minute", "level the constant check runs at"),
        "comm_timeout_s": ("通讯中断判定 s", "comm_lost timeout"),
        "linkage_minutes": ("治理设施停运报警 min", "treatment-stopped delay"),
        "clock_drift_s": ("时钟偏差报警 s", "clock drift threshold"),
        # links and devices (drivers.profiles.config)
        "type": ("链路类型 serial 串口 / tcp", "serial or tcp"),
        "port": ("端口", "serial device path, or TCP port"),
        "baud": ("波特率", "baud rate (default: the first device's profile)"),
        "parity": ("校验 N/E/O", "parity (default: the first device's profile)"),
        "stopbits": ("停止位", "stop bits (default: the first device's profile)"),
        "bytesize": ("数据位", "data bits (default: the first device's profile)"),
        "gap": ("帧间隔 s", "silence between frames, s"),
        "host": ("主机地址", "host name or IP"),
        "framing": ("帧格式 tcp/rtu", "tcp: Modbus TCP; rtu: RTU frames over TCP"),
        "profile": ("设备配置文件", "device profile"),
        "link": ("所在链路", "the link the device is on"),
        "address": ("设备地址", "device address"),
        "DeviceConfig.unit": ("Modbus 从站地址", "Modbus unit id"),
        "timeout": ("应答超时 s", "reply timeout"),
        "retries": ("重试次数", "retries after a failed request"),
        "points": ("测点设置", "point settings"),
        "factor": ("因子代码", "factor code"),
        "title": ("显示名称", "display name"),
        "report": ("是否上报", "report this point"),
        "point": ("设备测点", "device point"),
        # uplink (uplink.settings)
        "username": ("用户名", "user name"),
        "keepalive_s": ("心跳保持 s", "MQTT keep-alive, s"),
        "st": ("系统编码 ST", "system code (HJ 212 Table 5)"),
        "pw": ("访问密码", "access password"),
        "upload": ("上传内容", "which uploads are sent"),
        "backoff_min_s": ("重连最短等待 s", "first reconnect delay"),
        "backoff_max_s": ("重连最长等待 s", "longest reconnect delay"),
        "password": ("密码", "password"),
    }
)
