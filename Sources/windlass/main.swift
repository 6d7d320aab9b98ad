import WindlassManifest
let c = "k: 0755\nh: 0x1F\nf: 1e3\ng: 08\ns: 1_000\nn: ~\ne:\nt: .5\nu: 99999999999999999999\nv: +1\nw: '123'\nx: !!str 12\ny: !!int '12'\nz: -0b101\nm: |\n  line1\n  line2\nq: \"a: b\"\nr: 'it''s'\nnn: .inf\nbig: 9223372036854775807\n"
let d = try YAMLReader.read(c)[0].root
print(d)
print(YAMLWriter().write(d))
print(YAMLWriter(preservesScalarText: false).write(d))
print(JSONWriter(pretty: true).write(d))
