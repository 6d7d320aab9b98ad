/// The version of Windlass: what `windlass --version` prints and what plans record as
/// `windlass_version`, the CLI's and the daemon's alike.
public enum WindlassVersion {
    public static let current = "0.1.0-dev"
}
