public import WindlassCluster
public import WindlassPlan
import WindlassRollout

extension ApplicationPipeline {
    /// The forecast of `report`'s plan: its sync run on a twin of the destination (see
    /// ``Forecaster``). A forecast that cannot be made is a section saying why; the plan itself
    /// always stands.
    public func forecast(_ report: PlanReport) async -> ForecastSection {
        guard let makeTwin = twinFactory else { return .missing("this process cannot make a twin of the cluster") }
        guard report.live != nil else { return .missing("the plan was made without a cluster (--no-live): there is nothing to copy into a twin") }
        let plan = report.plan
        let state: TwinState
        do {
            state = try await Forecaster.capture(from: cluster.backend, for: plan, now: cluster.driver.now())
        } catch {
            return .missing("reading \(cluster.displayName) for its twin: \(error.message)")
        }
        let forecaster = Forecaster(makeTwin: makeTwin, options: SyncOptions(waveTimeout: application.syncOptions.waveTimeout))
        do {
            return .forecast(try await forecaster.forecast(plan, from: state))
        } catch {
            return .missing("the twin failed: \(error.message)")
        }
    }

    /// The plan of `revision` with its forecast.
    public func plan(_ revision: String? = nil, forecasting: Bool, serverDryRun: Bool = false) async throws(PipelineError) -> PlanReport {
        var report = try await plan(revision, serverDryRun: serverDryRun)
        if forecasting { report.forecast = await forecast(report) }
        return report
    }
}
