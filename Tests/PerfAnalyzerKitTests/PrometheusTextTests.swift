import Testing
@testable import PerfAnalyzerKit

@Suite("Prometheus text format")
struct PrometheusTextTests {
    @Test("HELP, TYPE and other comments are skipped; blank lines too")
    func comments() throws {
        let samples = try PrometheusText.parse("""
            # HELP nv_gpu_utilization GPU utilization rate [0.0 - 1.0] with a "quote" and a \\\\
            # TYPE nv_gpu_utilization gauge
            # any other comment {not="a sample"} 1

            nv_gpu_utilization{gpu_uuid="GPU-a"} 0.5
            # EOF
            """)
        #expect(samples == [PrometheusSample(name: "nv_gpu_utilization", labels: ["gpu_uuid": "GPU-a"], value: 0.5)])
    }

    @Test("labels in any order, several labels, a trailing comma, blanks around them")
    func labels() throws {
        let samples = try PrometheusText.parse("""
            a{gpu_uuid="GPU-1",device="0"} 1
            a{device="1",gpu_uuid="GPU-2"} 2
            a{ gpu_uuid = "GPU-3" , device="2", } 3
            a{} 4
            b 5
            """)
        #expect(samples.map(\.labels) == [["gpu_uuid": "GPU-1", "device": "0"], ["gpu_uuid": "GPU-2", "device": "1"],
                                         ["gpu_uuid": "GPU-3", "device": "2"], [:], [:]])
        #expect(samples.map(\.value) == [1, 2, 3, 4, 5])
    }

    @Test("escaped quotes, backslashes and newlines in label values; other UTF-8 as is")
    func escapes() throws {
        let samples = try PrometheusText.parse(#"m{a="say \"hi\"",b="C:\\dir",c="two\nlines",d="größe, {x}=1"} 1"#)
        #expect(samples.first?.labels == ["a": #"say "hi""#, "b": #"C:\dir"#, "c": "two\nlines", "d": "größe, {x}=1"])
    }

    @Test("NaN, +Inf, -Inf, exponents, negative numbers, and optional timestamps")
    func values() throws {
        let samples = try PrometheusText.parse("""
            a NaN
            b +Inf
            c -Inf 1700000000000
            d 1.5e+09
            e -0.25\t-12
            f 42 1700000000000\r
            """)
        #expect(samples[0].value.isNaN)
        #expect(samples[1].value == .infinity)
        #expect(samples[2].value == -.infinity && samples[2].timestampMs == 1_700_000_000_000)
        #expect(samples[3].value == 1.5e9 && samples[3].timestampMs == nil)
        #expect(samples[4].value == -0.25 && samples[4].timestampMs == -12)
        #expect(samples[5].value == 42 && samples[5].timestampMs == 1_700_000_000_000)
    }

    @Test("a second label after gpu_uuid is read, where perf_analyzer's pattern reads nothing")
    func secondLabel() throws {
        let read = ServerMetricsRead(samples: try PrometheusText.parse("""
            nv_gpu_utilization{gpu_uuid="GPU-a"} 0.25
            nv_gpu_utilization{gpu_uuid="GPU-b",mig="0"} 0.75
            nv_gpu_power_usage{instance="x",gpu_uuid="GPU-a"} 100.5
            """))
        #expect(read.gpuUtilization == ["GPU-a": 0.25, "GPU-b": 0.75])
        #expect(read.gpuPowerWatts == ["GPU-a": 100.5])
    }

    @Test("malformed lines are refused with their number and what is wrong", arguments: [
        ("ok 1\n9bad 1", 2, "expected a metric name"),
        ("m{a=\"x} 1", 1, "m: the value of a has no closing quote"),
        ("m{a=x} 1", 1, "m: the value of a is not quoted"),
        ("m{a=\"x\" b=\"y\"} 1", 1, "m: expected ',' or '}' after the value of a"),
        ("m{a=\"1\",a=\"2\"} 1", 1, "m: the label a is given twice"),
        ("m{a=\"\\t\"} 1", 1, "m: the value of a has an escape other than \\\\, \\\" or \\n"),
        ("m", 1, "m has no value"),
        ("m one", 1, "m: 'one' is not a number"),
        ("m 0x10", 1, "m: '0x10' is not a number"),
        ("m 1 2.5", 1, "m: the timestamp '2.5' is not an integer"),
        ("m 1 2 3", 1, "m: unexpected text after the value"),
        ("m-x 1", 1, "unexpected '-' after the metric name m"),
        ("m{1a=\"x\"} 1", 1, "expected a label name in m"),
    ])
    func malformed(text: String, line: Int, reason: String) {
        #expect(throws: PrometheusTextError(line: line, reason: reason)) { try PrometheusText.parse(text) }
    }

    @Test("Triton's own page (2.51, CPU only) reads as its CPU metrics and no GPU")
    func tritonPage() throws {
        let read = ServerMetricsRead(samples: try PrometheusText.parse("""
            # HELP nv_inference_request_success Number of successful inference requests, all batch sizes
            # TYPE nv_inference_request_success counter
            nv_inference_request_success{model="identity_fp32",version="1"} 0
            # HELP nv_cpu_utilization CPU utilization rate [0.0 - 1.0]
            # TYPE nv_cpu_utilization gauge
            nv_cpu_utilization 0.492462311557789
            # HELP nv_cpu_memory_total_bytes CPU total memory (RAM), in bytes
            # TYPE nv_cpu_memory_total_bytes gauge
            nv_cpu_memory_total_bytes 25276194816
            # HELP nv_cpu_memory_used_bytes CPU used memory (RAM), in bytes
            # TYPE nv_cpu_memory_used_bytes gauge
            nv_cpu_memory_used_bytes 951357440
            """))
        #expect(read.cpuUtilization == 0.492462311557789)
        #expect(read.cpuMemoryUsedBytes == 951_357_440)
        #expect(read.gpuUtilization.isEmpty)
        #expect(read.missing == [.gpuUtilization, .gpuPowerUsage, .gpuMemoryUsed, .gpuMemoryTotal])
    }
}
