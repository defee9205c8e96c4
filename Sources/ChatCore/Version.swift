/// chatd's version, for `chatd --version`, the man page and `chatd_build_info`.
public enum ChatdVersion {
    /// Raised with each release; the major part changes only if the line protocol does.
    public static let current = "0.19.0"
}
