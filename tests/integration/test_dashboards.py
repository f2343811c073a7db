"""The shipped dashboards (packaging/dashboards/) query only what the forwarder writes: both files
parse as JSON, every measurement, tag and field named in their InfluxQL and Flux queries is one
monitor/influx/forwarder.cpp really writes (the docs/formats.md contract, cross-checked against
the source), and the Grafana annotation maps time_end as TimeEnd so episodes show as regions.
Plain Python, no server: the queries themselves run in test_influx_real.py's territory."""
import json
import os
import re
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GRAFANA = os.path.join(ROOT, "packaging", "dashboards", "grafana-ctmon.json")
INFLUX2 = os.path.join(ROOT, "packaging", "dashboards", "influxdb2-ctmon.json")
FORWARDER_CPP = os.path.join(ROOT, "monitor", "influx", "forwarder.cpp")
FORWARDER_H = os.path.join(ROOT, "monitor", "influx", "forwarder.h")

# docs/formats.md "InfluxDB" (plus the marker's `state` field, which the forwarder also writes).
CONTRACT = {
    "ctmon_rate": {"tags": {"host", "counter", "proto", "hook", "state"}, "fields": {"pps", "packets"},
                   "constant": "kRateMeasurement", "writer": "emit_rate"},
    "ctmon_event": {"tags": {"host"},
                    "fields": {"title", "text", "tags", "kind", "where", "score", "event_id", "state", "time_end"},
                    "constant": "kEventMeasurement", "writer": "emit_marker"},
}
FLUX_COLUMNS = {"_time", "_value", "_field", "_measurement", "_start", "_stop"}
FLUX_BUILTIN_VARS = {"timeRangeStart", "timeRangeStop", "windowPeriod"}


def load(path):
    with open(path) as f:
        return f.read()


def names(m):
    return CONTRACT[m]["tags"] | CONTRACT[m]["fields"]


def function_body(source, name):
    start = source.index(f"void ForwardPlanner::{name}(")
    end = source.find("\nvoid ", start + 1)
    return source[start:end if end > 0 else len(source)]


class ForwarderWritesTheContract(unittest.TestCase):
    """The hard-listed names are what forwarder.cpp writes, so the dashboard checks below mean it."""

    def test_measurements_tags_and_fields(self):
        header = load(FORWARDER_H)
        source = load(FORWARDER_CPP)
        for measurement, spec in CONTRACT.items():
            self.assertRegex(header, rf'{spec["constant"]}\s*=\s*"{measurement}"')
            body = function_body(source, spec["writer"])
            self.assertIn(spec["constant"], source)
            for name in spec["tags"] | spec["fields"]:
                self.assertRegex(body, rf'[{{(]"{name}",', f"{measurement}.{name} is not written by {spec['writer']}")
        self.assertIn("emit_marker", source)
        self.assertRegex(function_body(source, "emit_marker"), r"p\.measurement = std::string\(kEventMeasurement\)")
        self.assertRegex(source, r'emit_rate\(kRateMeasurement')
        # time_end is an integer (FieldValue of an int64 ms), as Grafana's TimeEnd needs epoch ms.
        self.assertRegex(function_body(source, "emit_marker"), r'"time_end", FieldValue\(ns_to_ms\(')


class GrafanaDashboard(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dash = json.loads(load(GRAFANA))

    def queries(self):
        out = [("variable " + v["name"], v["query"]) for v in self.dash["templating"]["list"]]
        for p in self.dash["panels"]:
            for t in p.get("targets", []):
                out.append((p["title"], t["query"]))
        for a in self.dash["annotations"]["list"]:
            if a.get("datasource", {}).get("type") == "influxdb":
                out.append(("annotation " + a["name"], a["query"]))
                out.append(("annotation target " + a["name"], a["target"]["query"]))
        return out

    def check_influxql(self, where, q):
        measurements = re.findall(r'\bFROM\s+"(\w+)"', q)
        self.assertEqual(len(measurements), 1, f"{where}: one measurement per query: {q}")
        m = measurements[0]
        self.assertIn(m, CONTRACT, f"{where}: measurement {m} is not written by ctmon")
        identifiers = set(re.findall(r'"(\w+)"', q)) - {m}
        unknown = identifiers - names(m)
        self.assertFalse(unknown, f"{where}: {sorted(unknown)} are not tags/fields of {m}")
        for key in re.findall(r'WITH KEY = "(\w+)"', q):
            self.assertIn(key, CONTRACT[m]["tags"], where)
        for tag in re.findall(r'GROUP BY[^;]*?"(\w+)"', q):
            self.assertIn(tag, CONTRACT[m]["tags"], f"{where}: GROUP BY a non-tag")
        if q.lstrip().upper().startswith("SELECT"):
            self.assertIn("$timeFilter", q, f"{where}: Grafana needs WHERE $timeFilter")
        return m

    def test_every_query_uses_known_names(self):
        seen = set()
        for where, q in self.queries():
            seen.add(self.check_influxql(where, q))
        self.assertEqual(seen, set(CONTRACT))

    def test_rate_panels(self):
        panels = {p["title"]: p for p in self.dash["panels"]}
        for state in ("new", "invalid", "established"):
            matching = [p for p in panels.values() if any(f'/_{state}$/' in t["query"] for t in p.get("targets", []))]
            self.assertEqual(len(matching), 1, state)
            p = matching[0]
            self.assertEqual(p["type"], "timeseries")
            q = p["targets"][0]["query"]
            self.assertIn('FROM "ctmon_rate"', q)
            self.assertIn('mean("pps")', q)
            self.assertRegex(q, r'GROUP BY .*"counter"')
        tables = [p for p in panels.values() if p["type"] == "table"]
        self.assertEqual(len(tables), 1)
        self.assertIn('FROM "ctmon_event"', tables[0]["targets"][0]["query"])

    def test_annotation_is_a_region_on_time_end(self):
        annotations = [a for a in self.dash["annotations"]["list"] if a.get("datasource", {}).get("type") == "influxdb"]
        self.assertEqual(len(annotations), 1)
        a = annotations[0]
        expected = {"textColumn": "text", "titleColumn": "title", "tagsColumn": "kind", "timeEndColumn": "time_end"}
        for holder in (a, a["target"]):  # legacy layout and Grafana >= 9's migrated target
            for key, column in expected.items():
                self.assertEqual(holder[key], column, key)
            select = re.match(r'\s*SELECT (.*?) FROM', holder["query"]).group(1)
            selected = set(re.findall(r'"(\w+)"', select))
            self.assertLessEqual(set(expected.values()), selected, "every mapped column must be selected")
            self.assertIn('FROM "ctmon_event"', holder["query"])
        self.assertIn("time_end", CONTRACT["ctmon_event"]["fields"])

    def test_importable(self):
        self.assertGreaterEqual(self.dash["schemaVersion"], 36)
        self.assertEqual([i["name"] for i in self.dash["__inputs"]], ["DS_INFLUXDB"])
        self.assertEqual(self.dash["__inputs"][0]["pluginId"], "influxdb")
        host = [v for v in self.dash["templating"]["list"] if v["name"] == "host"]
        self.assertEqual(host[0]["query"], 'SHOW TAG VALUES FROM "ctmon_rate" WITH KEY = "host"')
        datasources = []

        def walk(node):
            if isinstance(node, dict):
                if "datasource" in node and isinstance(node["datasource"], dict):
                    datasources.append(node["datasource"])
                for v in node.values():
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)
        walk(self.dash)
        influx = [d for d in datasources if d.get("type") != "grafana"]
        self.assertTrue(influx)
        for d in influx:
            self.assertEqual(d, {"type": "influxdb", "uid": "${DS_INFLUXDB}"})


class InfluxDB2Template(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.objects = json.loads(load(INFLUX2))

    def test_template_shape(self):
        self.assertIsInstance(self.objects, list)
        for o in self.objects:
            self.assertEqual(o["apiVersion"], "influxdata.com/v2alpha1")
            self.assertRegex(o["metadata"]["name"], r"^[a-z0-9-]+$")
        dashboards = [o for o in self.objects if o["kind"] == "Dashboard"]
        self.assertEqual(len(dashboards), 1)
        self.assertTrue(dashboards[0]["spec"]["name"])

    def flux_queries(self):
        out = []
        for o in self.objects:
            if o["kind"] == "Variable":
                out.append(("variable " + o["spec"]["name"], o["spec"]["query"]))
            elif o["kind"] == "Dashboard":
                for c in o["spec"]["charts"]:
                    for q in c.get("queries", []):
                        out.append((c["name"], q["query"]))
        return out

    def test_every_query_uses_known_names(self):
        variables = {o["spec"]["name"] for o in self.objects if o["kind"] == "Variable"}
        kinds = []
        for where, q in self.flux_queries():
            for v in re.findall(r"\bv\.(\w+)", q):
                self.assertIn(v, variables | FLUX_BUILTIN_VARS, f"{where}: undefined variable v.{v}")
            measurements = set(re.findall(r'_measurement == "(\w+)"', q))
            if not measurements:
                self.assertNotIn("r.host", q, where)
                continue
            self.assertEqual(len(measurements), 1, where)
            m = measurements.pop()
            self.assertIn(m, CONTRACT, where)
            used = set(re.findall(r'_field == "(\w+)"', q)) | set(re.findall(r'\btag: "(\w+)"', q))
            used |= set(re.findall(r"\br\.(\w+)", q)) - FLUX_COLUMNS
            for cols in re.findall(r"columns: \[([^\]]*)\]", q):
                used |= set(re.findall(r'"(\w+)"', cols)) - FLUX_COLUMNS
            computed = set(re.findall(r"\{r with (\w+):", q))
            unknown = used - names(m) - computed
            self.assertFalse(unknown, f"{where}: {sorted(unknown)} are not tags/fields of {m}")
            for f in re.findall(r'_field == "(\w+)"', q):
                self.assertIn(f, CONTRACT[m]["fields"], where)
            for t in re.findall(r'\btag: "(\w+)"', q):
                self.assertIn(t, CONTRACT[m]["tags"], where)
            if "pivot(" in q:
                kinds.append("events")
            else:
                kinds.append(m)
        self.assertGreaterEqual(kinds.count("ctmon_rate"), 3)  # ctmon_rate graphs (and the host variable)
        self.assertEqual(kinds.count("events"), 1)

    def test_rates_and_events_table(self):
        dash = next(o for o in self.objects if o["kind"] == "Dashboard")
        charts = dash["spec"]["charts"]
        xy = [c for c in charts if c["kind"].lower() == "xy"]
        for state in ("new", "invalid", "established"):
            self.assertEqual(sum(f"/_{state}$/" in c["queries"][0]["query"] for c in xy), 1, state)
        tables = [c for c in charts if c["kind"].lower() == "table"]
        self.assertEqual(len(tables), 1)
        self.assertIn('r._measurement == "ctmon_event"', tables[0]["queries"][0]["query"])
        self.assertIn("pivot(", tables[0]["queries"][0]["query"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
