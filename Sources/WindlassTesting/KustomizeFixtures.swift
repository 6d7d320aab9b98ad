import Foundation

/// A repository the way teams lay out kustomize: a base, a component, and overlays for two
/// environments using the common transformers (namePrefix, namespace, labels, images,
/// replicas, a strategic-merge and a JSON 6902 patch, a configMapGenerator whose hashed name a
/// Deployment refers to, a component), beside a plain directory of Namespaces.
public enum KustomizeFixture {
    public static let overlays = ["overlays/staging", "overlays/production"]

    /// Writes the files into `repository` (not committed).
    public static func write(into repository: GitFixture, image: String = "registry.example/web:1.0") throws {
        try repository.write("base/kustomization.yaml", """
            apiVersion: kustomize.config.k8s.io/v1beta1
            kind: Kustomization
            labels:
              - pairs: {app.kubernetes.io/part-of: shop}
            resources:
              - deployment.yaml
              - service.yaml
            configMapGenerator:
              - name: web-config
                literals:
                  - LOG_LEVEL=info
            """)
        try repository.write("base/deployment.yaml", deployment(image: image))
        try repository.write("base/service.yaml", """
            apiVersion: v1
            kind: Service
            metadata:
              name: web
            spec:
              selector: {app: web}
              ports:
                - port: 80
                  targetPort: 8080
            """)
        try repository.write("components/monitoring/kustomization.yaml", """
            apiVersion: kustomize.config.k8s.io/v1alpha1
            kind: Component
            patches:
              - target: {kind: Deployment}
                patch: |-
                  - op: add
                    path: /spec/template/metadata/annotations
                    value: {prometheus.io/scrape: "true"}
            """)
        try repository.write("overlays/staging/kustomization.yaml", """
            apiVersion: kustomize.config.k8s.io/v1beta1
            kind: Kustomization
            namespace: staging
            namePrefix: staging-
            labels:
              - pairs: {env: staging}
            resources:
              - ../../base
            components:
              - ../../components/monitoring
            images:
              - name: registry.example/web
                newTag: "1.1"
            replicas:
              - name: web
                count: 2
            patches:
              - path: limits.yaml
              - target: {kind: Service, name: web}
                patch: |-
                  - op: replace
                    path: /spec/ports/0/port
                    value: 8080
            """)
        try repository.write("overlays/staging/limits.yaml", """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: web
            spec:
              template:
                spec:
                  containers:
                    - name: web
                      resources:
                        limits: {cpu: 500m, memory: 256Mi}
            """)
        try repository.write("overlays/production/kustomization.yaml", """
            apiVersion: kustomize.config.k8s.io/v1beta1
            kind: Kustomization
            namespace: production
            namePrefix: prod-
            labels:
              - pairs: {env: production}
            resources:
              - ../../base
            components:
              - ../../components/monitoring
            images:
              - name: registry.example/web
                newTag: "2.0"
            replicas:
              - name: web
                count: 4
            configMapGenerator:
              - name: web-config
                behavior: merge
                literals:
                  - LOG_LEVEL=warn
            patches:
              - path: port.yaml
                target: {kind: Service, name: web}
            """)
        try repository.write("overlays/production/port.yaml", """
            - op: replace
              path: /spec/ports/0/targetPort
              value: 9090
            """)
        try repository.write("namespaces/namespaces.yaml", """
            apiVersion: v1
            kind: Namespace
            metadata: {name: staging}
            ---
            apiVersion: v1
            kind: Namespace
            metadata: {name: production}
            """)
    }

    public static func deployment(image: String, port: Int = 8080) -> String {
        """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: web
        spec:
          replicas: 1
          selector:
            matchLabels: {app: web}
          template:
            metadata:
              labels: {app: web}
            spec:
              containers:
                - name: web
                  image: \(image)
                  ports: [{containerPort: \(port)}]
                  envFrom:
                    - configMapRef: {name: web-config}
                  volumeMounts:
                    - {name: config, mountPath: /etc/web}
              volumes:
                - name: config
                  configMap: {name: web-config}
        """
    }

    /// A stand-in kustomize (a shell script) for the failures the real one cannot be made to
    /// show on demand: it answers `version`, and does `build` as `script` says.
    public static func fakeKustomize(in directory: TemporaryDirectory, name: String, build script: String) throws -> String {
        let path = try directory.write("bin/\(name)/kustomize", """
            #!/bin/sh
            if [ "$1" = version ]; then echo v5.0.0; exit 0; fi
            \(script)
            """)
        chmod(path, 0o755)
        return path
    }
}
