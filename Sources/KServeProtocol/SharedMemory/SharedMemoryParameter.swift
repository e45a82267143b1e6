/// The tensor parameters of the shared-memory extensions that point an input or a requested
/// output at a registered region instead of carrying its bytes.
public enum SharedMemoryParameter {
    public static let region = "shared_memory_region"
    public static let byteSize = "shared_memory_byte_size"
    /// Optional: bytes from the start of the region (0 when absent).
    public static let offset = "shared_memory_offset"
}
