import ArgumentParser

/// An enum-valued flag parsed straight into its enum, in any letter case (as perf_analyzer
/// takes `-i GRPC`); the parser lists the values in the help and in its error line.
public protocol CaseInsensitiveArgument: ExpressibleByArgument, CaseIterable, RawRepresentable where RawValue == String {}

extension CaseInsensitiveArgument {
    public init?(argument: String) {
        guard let match = Self.allCases.first(where: { $0.rawValue.lowercased() == argument.lowercased() }) else { return nil }
        self = match
    }

    public static var allValueStrings: [String] { allCases.map(\.rawValue) }

    public var defaultValueDescription: String { rawValue }
}

extension PerfAnalyzerOptions.WireProtocol: CaseInsensitiveArgument {}
extension PerfAnalyzerOptions.MeasurementMode: CaseInsensitiveArgument {}
extension PerfAnalyzerOptions.TensorFormat: CaseInsensitiveArgument {}
extension PerfAnalyzerOptions.SharedMemoryKind: CaseInsensitiveArgument {}
extension RequestDistribution: CaseInsensitiveArgument {}
extension GRPCCompression: CaseInsensitiveArgument {}
extension HTTPSTLSOptions.FileFormat: CaseInsensitiveArgument {}
