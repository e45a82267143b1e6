/// The words the simulated model "generates": token k of every answer is word k of a fixed
/// cycle, each with its trailing space, so answers are deterministic and a client can check
/// what it reassembled.
enum SimulatedText {
    static let words = [
        "the ", "quick ", "brown ", "fox ", "jumps ", "over ", "a ", "lazy ", "dog ", "while ",
        "simulated ", "tokens ", "stream ", "out ", "one ", "by ",
    ]

    static func token(_ index: Int) -> String {
        words[index % words.count]
    }

    /// The first `count` tokens, as a non-streamed answer carries them.
    static func text(tokens count: Int) -> String {
        var text = ""
        text.reserveCapacity(count * 8)
        for index in 0..<count { text += token(index) }
        return text
    }
}
