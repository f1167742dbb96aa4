/// The version of `lienthong` and `lienthongd`, in one place (`--version`, the package's name).
public enum LienThongVersion {
    public static let string = "0.9.0"
}
