import Glibc

/// Writes a deterministic synthetic manifest tree: N applications, each a Deployment, a Service
/// and a ConfigMap in one file (about 1.2 KB), 100 applications per team directory.
enum TreeGenerator {
    static func application(_ i: Int) -> String {
        let name = "app-\(i)"
        let team = "team-\(i / 100)"
        let port = 8000 + i % 1000
        return """
            # \(name), owned by \(team)
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: \(name)
              namespace: \(team)
              labels:
                app.kubernetes.io/name: \(name)
                app.kubernetes.io/part-of: \(team)
              annotations:
                windlass.dev/sync-wave: "\(i % 3)"
            spec:
              replicas: \(1 + i % 5)
              selector:
                matchLabels:
                  app.kubernetes.io/name: \(name)
              template:
                metadata:
                  labels:
                    app.kubernetes.io/name: \(name)
                spec:
                  containers:
                    - name: server
                      image: registry.example.com/\(team)/\(name):1.\(i % 40).\(i % 7)
                      ports:
                        - name: http
                          containerPort: \(port)
                      env:
                        - name: LOG_LEVEL
                          value: info
                      resources:
                        requests: {cpu: 100m, memory: 128Mi}
                        limits: {cpu: 500m, memory: 256Mi}
                      readinessProbe:
                        httpGet: {path: /healthz, port: http}
                      volumeMounts:
                        - name: config
                          mountPath: /etc/\(name)
                  volumes:
                    - name: config
                      configMap:
                        name: \(name)-config
            ---
            apiVersion: v1
            kind: Service
            metadata:
              name: \(name)
              namespace: \(team)
            spec:
              selector:
                app.kubernetes.io/name: \(name)
              ports:
                - name: http
                  port: 80
                  targetPort: http
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: \(name)-config
              namespace: \(team)
            data:
              settings.yaml: |
                listen: 0.0.0.0:\(port)
                workers: \(2 + i % 6)

            """
    }

    /// Writes the tree under `root` and returns the files' paths (in generation order) and bytes.
    static func write(count: Int, to root: String) -> (files: [String], bytes: Int) {
        var files: [String] = []
        var bytes = 0
        mkdir(root, 0o755)
        for i in 0..<count {
            let directory = root + "/team-\(i / 100)"
            if i % 100 == 0 { mkdir(directory, 0o755) }
            let path = directory + "/app-\(i).yaml"
            let text = application(i)
            writeFile(path, text)
            files.append(path)
            bytes += text.utf8.count
        }
        return (files, bytes)
    }

    static func writeFile(_ path: String, _ text: String) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        precondition(fd >= 0, "cannot write \(path)")
        defer { close(fd) }
        var utf8 = Array(text.utf8)
        var offset = 0
        while offset < utf8.count {
            let n = utf8.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            precondition(n > 0, "cannot write \(path)")
            offset += n
        }
    }
}

/// Flushes written files to disk before a timed case, so the kernel's writeback of a freshly
/// generated tree does not compete with the measurement on a 2-core machine.
func settleDisk() {
    Glibc.sync()
}
