import WindlassManifest
let v = try YAMLReader.read("float: 1.5e-7\n")[0].root
let j = JSONWriter().write(v)
print(j, try YAMLReader.read(j)[0].root)
