/// The release both tools report with `--version`, and the version scripts/package.sh gives
/// the tarball and the wheel. One place, so the two binaries of a package always agree.
public enum ReleaseVersion {
    public static let current = "0.1.0"
}
