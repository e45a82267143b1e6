extension Array {
    /// Makes room for `count` more elements, at least doubling the capacity when it grows.
    /// `reserveCapacity` alone grows to exactly what is asked, so asking again and again for a
    /// little more, as the loader does for each tensor it appends to one arena, would copy the
    /// whole arena every time.
    mutating func reserveForAppending(_ count: Int) {
        guard capacity - self.count < count else { return }
        reserveCapacity(Swift.max(self.count + count, capacity * 2))
    }
}
