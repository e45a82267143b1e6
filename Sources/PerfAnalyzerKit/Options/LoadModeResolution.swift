extension PerfAnalyzerCommand {
    /// Picks the load mode from the range flags and reads the sequence flags.
    func resolveLoadMode(into options: inout PerfAnalyzerOptions) throws(OptionError) {
        let distribution = measurement.requestDistribution
        if measurement.fixedSchedule {
            if let other = [("--concurrency-range", measurement.concurrencyRange), ("--request-rate-range", measurement.requestRateRange),
                            ("--request-intervals", measurement.requestIntervals)].first(where: { $0.1 != nil })?.0 {
                throw OptionError("--fixed-schedule sends each request at its own timestamp; it cannot be combined with \(other)")
            }
            options.loadMode = .fixedSchedule
        } else if let path = measurement.requestIntervals {
            if measurement.concurrencyRange != nil || measurement.requestRateRange != nil {
                throw OptionError("--request-intervals sets the send times itself; it cannot be combined with --concurrency-range or --request-rate-range")
            }
            do {
                options.loadMode = .requestIntervals(path: path, gapsNs: try RequestIntervalsFile.load(path: path))
            } catch {
                throw OptionError(error.description)
            }
        } else if let text = measurement.requestRateRange {
            if measurement.concurrencyRange != nil {
                throw OptionError("--request-rate-range and --concurrency-range choose different load modes; give one of them")
            }
            do {
                options.loadMode = .requestRate(try RangeParser.requestRate(text), distribution)
            } catch {
                throw OptionError(error.description)
            }
        }

        var sequences = SequenceOptions()
        try NumericBounds.check(measurement.numOfSequences, in: 1...1_000_000, flag: "--num-of-sequences",
                                expected: "a number of sequences from 1 to 1000000")
        sequences.concurrentSequences = measurement.numOfSequences
        if let length = inputData.sequenceLength {
            try NumericBounds.check(length, in: 1...NumericBounds.maxRequestCount, flag: "--sequence-length",
                                    expected: "a length from 1 to \(NumericBounds.maxRequestCount) requests")
            sequences.length = length
        }
        guard inputData.sequenceLengthVariation >= 0, inputData.sequenceLengthVariation <= 1000 else {
            throw OptionError("--sequence-length-variation \(inputData.sequenceLengthVariation): expected a percentage from 0 to 1000")
        }
        sequences.lengthVariationPercent = inputData.sequenceLengthVariation
        if let text = inputData.sequenceIdRange {
            do {
                (sequences.idStart, sequences.idEnd) = try RangeParser.sequenceIDs(text)
            } catch {
                throw OptionError(error.description)
            }
        }
        sequences.serial = measurement.serialSequences
        options.sequences = sequences
    }

    func checkRateSweep(_ options: PerfAnalyzerOptions, range: RequestRateRange) throws(OptionError) {
        let text = measurement.requestRateRange ?? ""
        if range.isOpenEnded && options.latencyThresholdMs == 0 {
            throw OptionError("--request-rate-range \(text): an open end (0) needs a latency limit (-l) to stop at")
        }
        if options.binarySearch {
            if range.isOpenEnded { throw OptionError("--binary-search needs an end to the request-rate range (end 0 is open)") }
            if options.latencyThresholdMs == 0 { throw OptionError("--binary-search needs a latency limit (-l)") }
        }
        if options.requestCount > 0, range.end != range.start {
            throw OptionError("--request-count measures one level; give a single --request-rate-range value")
        }
        if options.warmupRequestCount > 0, range.end != range.start {
            throw OptionError("--warmup-request-count works with a single --request-rate-range value")
        }
    }

    func checkIntervals(_ options: PerfAnalyzerOptions) throws(OptionError) {
        if options.binarySearch {
            throw OptionError("--binary-search searches a range; --request-intervals has a single schedule")
        }
    }

    /// `--fixed-schedule`: the input data sets every send, so the count is the data's.
    func checkFixedSchedule(_ options: PerfAnalyzerOptions) throws(OptionError) {
        guard general.serviceKind.lowercased() == "openai" else {
            throw OptionError("--fixed-schedule: only with --service-kind openai (the timestamps come with the request bodies of --input-data)")
        }
        if options.binarySearch { throw OptionError("--binary-search searches a range; --fixed-schedule has a single schedule") }
        if options.requestCount > 0 {
            throw OptionError("--request-count: --fixed-schedule sends every entry of --input-data once; the count is theirs")
        }
        if options.warmupRequestCount > 0 {
            throw OptionError("--warmup-request-count: not implemented with --fixed-schedule (every entry of --input-data is measured)")
        }
    }
}
