/// The models one simulator serves, looked up by name or by index (the index keys
/// the statistics and the plan cache, so lookups on the hot path are array reads).
public struct ModelCatalog: Sendable {
    public let models: [ModelDefinition]
    private let indexByName: [String: Int]
    /// For ensembles, the catalog index of each step's model.
    let stepIndices: [[Int]]

    /// Fails when an ensemble names a model that is not in the list, or a name repeats.
    public init(_ models: [ModelDefinition]) throws(InferError) {
        var index: [String: Int] = [:]
        for (position, model) in models.enumerated() {
            guard index.updateValue(position, forKey: model.name) == nil else {
                throw InferError("model '\(model.name)' is defined twice")
            }
        }
        var steps: [[Int]] = []
        for model in models {
            guard case .ensemble(let definitions) = model.behavior else {
                steps.append([])
                continue
            }
            var resolved: [Int] = []
            for step in definitions {
                guard let stepIndex = index[step.modelName] else {
                    throw InferError("ensemble '\(model.name)' uses unknown model '\(step.modelName)'")
                }
                resolved.append(stepIndex)
            }
            steps.append(resolved)
        }
        self.models = models
        self.indexByName = index
        self.stepIndices = steps
    }

    public func index(of name: String) -> Int? { indexByName[name] }

    public subscript(index: Int) -> ModelDefinition { models[index] }
}
