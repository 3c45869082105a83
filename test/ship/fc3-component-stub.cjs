// Stands in for the fc3 component in a test HOME's component cache (test/ship/s-yaml.test.ts):
// the real one is published only to the Serverless Devs registry, not to npm, so it cannot be
// installed offline. It answers with what the CLI handed it, so the test sees exactly what the
// real component would get from `s deploy`.
module.exports = class Fc3ComponentStub {
  async deploy(inputs) {
    return { command: inputs.command, props: inputs.props, credential: await inputs.getCredential() };
  }
};
