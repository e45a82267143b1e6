/// The JSON examples of the Perf Analyzer input-data guide, copied verbatim from its text.
enum InputDataGuide {
    /// "data" with two INT32 [4, 4] inputs, flattened row-major.
    static let explicitTensors = #"""
{
"data":
[
{
"INPUT0": [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
"INPUT1": [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
},
{
"INPUT0": [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
"INPUT1": [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
},
{
"INPUT0": [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
"INPUT1": [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
},
{
"INPUT0": [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
"INPUT1": [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
}
]
}
"""#

    /// Base64 tensors.
    static let base64 = #"""
{
"data":
[
{
"INPUT0": {"b64": "YmFzZTY0IGRlY29kZXI="},
"INPUT1": {"b64": "YmFzZTY0IGRlY29kZXI="}
},
{
"INPUT0": {"b64": "YmFzZTY0IGRlY29kZXI="},
"INPUT1": {"b64": "YmFzZTY0IGRlY29kZXI="}
},
{
"INPUT0": {"b64": "YmFzZTY0IGRlY29kZXI="},
"INPUT1": {"b64": "YmFzZTY0IGRlY29kZXI="}
}
]
}
"""#

    /// Three streams for a sequence model with one STRING input of shape [1].
    static let streams = #"""
{
"data":
[
[
{
"INPUT": ["1"]
},
{
"INPUT": ["2"]
},
{
"INPUT": ["3"]
},
{
"INPUT": ["4"]
}
],
[
{
"INPUT": ["1"]
},
{
"INPUT": ["1"]
},
{
"INPUT": ["1"]
}
],
[
{
"INPUT": ["1"]
},
{
"INPUT": ["1"]
}
]
]
}
"""#

    /// Steps with their own "shape" for an INT32 [-1, -1] input.
    static let shapes = #"""
{
"data":
[
{
"INPUT":
{
"content": [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
"shape": [2,8]
}
},
{
"INPUT":
{
"content": [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
"shape": [8,2]
}
},
{
"INPUT":
{
"content": [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
}
},
{
"INPUT":
{
"content": [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
"shape": [4,4]
}
}
]
}
"""#

    /// Base64 contents with explicit shapes (the guide abbreviates the payload with "(...)").
    static let base64WithShape = #"""
{
"data":
[
{
"INPUT":
{
"content": {"b64": "/9j/4AAQSkZ(...)"},
"shape": [7964]
}
},
{
"INPUT":
{
"content": {"b64": "/9j/4AAQSkZ(...)"},
"shape": [7964]
}
}
]
}
"""#

    /// "validation_data" aligned with "data".
    static let validation = #"""
{
"data":
[
{
"INPUT0": [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
"INPUT1": [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
}
],
"validation_data":
[
{
"OUTPUT0": [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
"OUTPUT1": [2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2]
}
]
}
"""#
}
