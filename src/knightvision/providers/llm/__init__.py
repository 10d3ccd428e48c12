"""Chat language models behind one port: any OpenAI-compatible server
(OpenAI, vLLM, Ollama, llama.cpp)."""
